package flows

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event on its way to one endpoint. It is written before
// the first attempt, so an instance that dies mid-delivery leaves it due,
// and the next sweep sends the same event (same id, same body) again.
type Delivery struct {
	Event      string     `json:"eventId"`
	Type       string     `json:"type"`
	Flow       string     `json:"flowId"`
	Caller     string     `json:"caller"`
	Endpoint   string     `json:"endpoint"` // EndpointID(url)
	URL        string     `json:"url"`
	State      string     `json:"state"`
	Attempts   int        `json:"attempts"`
	LastStatus int        `json:"lastStatus,omitempty"`
	LastError  string     `json:"lastError,omitempty"`
	Next       *time.Time `json:"nextAttempt,omitempty"`
	Created    time.Time  `json:"created"`
	Delivered  *time.Time `json:"delivered,omitempty"`
	// key is the endpoint's configuration key (caller pattern and id).
	Key string `json:"key"`
}

func member(eventID, endpointID string) string { return eventID + ":" + endpointID }

// endpointsFor lists the endpoints a caller's flows go to.
func (s *Service) endpointsFor(caller string) []Endpoint {
	var out []Endpoint
	for _, e := range s.o.Endpoints {
		if e.Caller == caller || e.Caller == "*" {
			out = append(out, e)
		}
	}
	return out
}

func (s *Service) endpoint(key string) (Endpoint, bool) {
	for _, e := range s.o.Endpoints {
		if e.Caller+" "+e.id == key {
			return e, true
		}
	}
	return Endpoint{}, false
}

// announce queues the event of a finished flow for each of its caller's
// endpoints, once: the event id is derived from the flow and its state, and
// each delivery is created only if absent, however many instances see the
// flow end.
func (s *Service) announce(ctx context.Context, f *Flow) error {
	eps := s.endpointsFor(f.Caller)
	if len(eps) == 0 {
		return nil
	}
	typ := "flow." + f.State
	ev := Event{ID: eventID(f.ID, typ), Type: typ, Created: f.Finished.Unix(), Livemode: !f.Sandbox, Flow: f}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	sealed, err := s.o.Keys.Seal(keyEvent+ev.ID, body)
	if err != nil {
		return err
	}
	if _, err := s.o.store.setNX(ctx, keyEvent+ev.ID, sealed, s.o.Retention); err != nil {
		return err
	}
	now := s.o.Now()
	var fresh []string
	for _, e := range eps {
		m := member(ev.ID, e.id)
		d := Delivery{Event: ev.ID, Type: typ, Flow: f.ID, Caller: f.Caller, Endpoint: e.id, URL: e.URL,
			State: DeliveryPending, Created: now, Next: &now, Key: e.Caller + " " + e.id}
		b, _ := json.Marshal(d)
		ok, err := s.o.store.setNX(ctx, keyDlv+m, b, s.o.Retention)
		if err != nil {
			return err
		}
		if !ok {
			continue // another instance queued it
		}
		if err := s.o.store.schedule(ctx, qDue, m, now); err != nil {
			return err
		}
		_ = s.o.store.schedule(ctx, keyCallerQ+f.Caller, m, now)
		fresh = append(fresh, m)
	}
	if s.o.InlineDelivery > 0 {
		dctx, cancel := context.WithTimeout(ctx, s.o.InlineDelivery)
		defer cancel()
		for _, m := range fresh {
			s.deliver(dctx, m)
		}
	}
	return nil
}

func (s *Service) loadDelivery(ctx context.Context, m string) (*Delivery, error) {
	b, err := s.o.store.get(ctx, keyDlv+m)
	if err != nil || b == nil {
		return nil, err
	}
	var d Delivery
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (s *Service) saveDelivery(ctx context.Context, d *Delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.o.store.set(ctx, keyDlv+member(d.Event, d.Endpoint), b, s.o.Retention)
}

// deliver makes one attempt of a due delivery: ok when it was accepted,
// tried when an attempt was made at all.
func (s *Service) deliver(ctx context.Context, m string) (ok, tried bool) {
	release, got, err := s.lease(ctx, "dlv:"+m, s.o.DeliveryTimeout+5*time.Second)
	if err != nil || !got {
		return false, false
	}
	defer release()
	d, err := s.loadDelivery(ctx, m)
	if err != nil {
		return false, false
	}
	if d == nil || d.State != DeliveryPending {
		_ = s.o.store.unschedule(ctx, qDue, m)
		return false, false
	}
	now := s.o.Now()
	if d.Next != nil && d.Next.After(now) {
		return false, false // another runner already rescheduled it
	}
	ep, known := s.endpoint(d.Key)
	var body []byte
	if known {
		var sealed []byte
		if sealed, err = s.o.store.get(ctx, keyEvent+d.Event); err == nil && sealed != nil {
			body, err = s.o.Keys.Open(keyEvent+d.Event, sealed)
		}
	}
	switch {
	case !known:
		d.State, d.LastError, d.Next = DeliveryFailed, "the endpoint is no longer configured", nil
	case err != nil:
		return false, false // the store is unwell: the delivery stays due
	case body == nil:
		d.State, d.LastError, d.Next = DeliveryFailed, "the event has expired", nil
	default:
		d.Attempts++
		pctx, cancel := context.WithTimeout(ctx, s.o.DeliveryTimeout)
		status, perr := post(pctx, s.o.Client, ep.URL, s.o.Secret(d.Key), d.Event, body, now)
		cancel()
		tried = true
		d.LastStatus = status
		if perr == nil {
			t := s.o.Now()
			d.State, d.Delivered, d.Next, d.LastError = DeliveryDelivered, &t, nil, ""
			ok = true
		} else {
			d.LastError = perr.Error()
			if d.Attempts >= s.o.MaxAttempts {
				d.State, d.Next = DeliveryFailed, nil
			} else {
				next := now.Add(s.backoff(d.Attempts))
				d.Next = &next
			}
			s.o.Logger.Warn("webhook delivery failed", slog.String("event", d.Event), slog.String("endpoint", d.Endpoint),
				slog.Int("attempt", d.Attempts), slog.String("error", d.LastError))
		}
	}
	if err := s.saveDelivery(ctx, d); err != nil {
		return ok, tried
	}
	switch d.State {
	case DeliveryPending:
		_ = s.o.store.schedule(ctx, qDue, m, *d.Next)
	case DeliveryFailed:
		_ = s.o.store.unschedule(ctx, qDue, m)
		_ = s.o.store.schedule(ctx, qFailed, m, now)
	default:
		_ = s.o.store.unschedule(ctx, qDue, m)
	}
	return ok, tried
}

// backoff is the wait after attempt n (1-based): Backoff, tripling, at
// most six hours.
func (s *Service) backoff(n int) time.Duration {
	d := s.o.Backoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 3
	}
	return min(d, maxBackoff)
}

// Deliveries lists a caller's deliveries, newest first, in state ("" for
// every state).
func (s *Service) Deliveries(ctx context.Context, caller, state string) ([]*Delivery, error) {
	ms, err := s.o.store.members(ctx, keyCallerQ+caller, 1000)
	if err != nil {
		return nil, err
	}
	out := []*Delivery{}
	for i := len(ms) - 1; i >= 0 && len(out) < 100; i-- {
		d, err := s.loadDelivery(ctx, ms[i])
		if err != nil {
			return nil, err
		}
		if d == nil {
			_ = s.o.store.unschedule(ctx, keyCallerQ+caller, ms[i]) // expired
			continue
		}
		if state == "" || d.State == state {
			out = append(out, d)
		}
	}
	return out, nil
}

// Redeliver queues an event again for the caller's endpoints that did not
// take it (or every one of them, with all): same event id, same body. It
// attempts them at once and returns the deliveries as they stand.
func (s *Service) Redeliver(ctx context.Context, caller, eventID string) ([]*Delivery, error) {
	if !validID(eventPrefix, eventID) {
		return nil, errs.E(errs.NotFound, "ResourceNotFound.Event", "no event %s for this caller", truncate(eventID, 40))
	}
	var out []*Delivery
	seen := map[string]bool{}
	for _, e := range s.o.Endpoints {
		m := member(eventID, e.id)
		if seen[m] {
			continue
		}
		seen[m] = true
		d, err := s.loadDelivery(ctx, m)
		if err != nil {
			return nil, err
		}
		if d == nil || d.Caller != caller {
			continue
		}
		if d.State != DeliveryDelivered {
			now := s.o.Now()
			d.State, d.Attempts, d.Next, d.LastError = DeliveryPending, 0, &now, ""
			if err := s.saveDelivery(ctx, d); err != nil {
				return nil, err
			}
			_ = s.o.store.unschedule(ctx, qFailed, m)
			if err := s.o.store.schedule(ctx, qDue, m, now); err != nil {
				return nil, err
			}
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			s.deliver(dctx, m)
			cancel()
			if d, err = s.loadDelivery(ctx, m); err != nil || d == nil {
				continue
			}
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, errs.E(errs.NotFound, "ResourceNotFound.Event", "no event %s for this caller", eventID)
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
