package flows

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/seal"
)

// Options configure a Service.
type Options struct {
	// PublicURL is the base browsers reach this function set at; "" leaves
	// the caller's redirect alone (the flow then ends by polling).
	PublicURL string
	Endpoints []Endpoint
	// Secret is an endpoint's signing secret by its key (caller pattern,
	// space, EndpointID), read at each delivery so a rotated secret is
	// used as soon as it is resolved again.
	Secret func(key string) []byte
	// Keys seal flows and events at rest; nil keeps them in the clear.
	Keys   *seal.Keys
	store  kv
	Logger *slog.Logger
	Now    func() time.Time
	Client *http.Client
	// TTL overrides every kind's lifetime (rehearsing expiry); 0 keeps
	// the providers' own.
	TTL time.Duration
	// Poll is the first interval between pulls of an open flow; it
	// doubles up to MaxPoll.
	Poll, MaxPoll time.Duration
	// Backoff is the first retry delay of a failed delivery; it triples,
	// up to 6 hours, for MaxAttempts attempts in all.
	Backoff     time.Duration
	MaxAttempts int
	// Retention is how long a finished flow and its events are kept.
	Retention time.Duration
	// DeliveryTimeout bounds one delivery attempt (default 10s); a
	// delivery's lease outlives it, so a dead instance's attempt is
	// retried soon after.
	DeliveryTimeout time.Duration
	// InlineDelivery is how long a request that ends a flow waits for the
	// first delivery attempt (0: none; the sweep sends it).
	InlineDelivery time.Duration
}

// Service runs flows.
type Service struct {
	o        Options
	mu       sync.Mutex
	pipeline *gateway.Pipeline
}

// Defaults.
const (
	defaultPoll        = 15 * time.Second
	defaultMaxPoll     = 5 * time.Minute
	defaultBackoff     = 10 * time.Second
	maxBackoff         = 6 * time.Hour
	defaultMaxAttempts = 10
	defaultRetention   = 72 * time.Hour // as long as the providers keep results
	leaseTTL           = 30 * time.Second
	pullMinGap         = 2 * time.Second // a polling backend does not become a pull loop
)

// Queue and key names in the store.
const (
	qOpen      = "open"       // flows not finished, due at their next pull
	qDue       = "dlv:due"    // deliveries due at their next attempt
	qFailed    = "dlv:failed" // deliveries that gave up, by when
	keyFlow    = "flow:"
	keyEvent   = "evt:"
	keyDlv     = "dlv:"
	keyLease   = "lease:"
	keyCallerQ = "dlv:caller:" // a caller's deliveries, newest last
	keyToken   = "tok:"        // a flow's id by its token
)

// NewService makes a Service; o.store nil is memory.
func NewService(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.store == nil {
		o.store = newMemKV(o.Now)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = 10 * time.Second
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: o.DeliveryTimeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a receiver answers; it does not send us elsewhere
		}}
	}
	if o.Poll <= 0 {
		o.Poll = defaultPoll
	}
	if o.MaxPoll <= 0 {
		o.MaxPoll = defaultMaxPoll
	}
	if o.Backoff <= 0 {
		o.Backoff = defaultBackoff
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = defaultMaxAttempts
	}
	if o.Retention <= 0 {
		o.Retention = defaultRetention
	}
	return &Service{o: o}
}

// SetPipeline is given the pipeline the flows' results are pulled through.
func (s *Service) SetPipeline(p *gateway.Pipeline) {
	s.mu.Lock()
	s.pipeline = p
	s.mu.Unlock()
}

func (s *Service) pl() *gateway.Pipeline {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pipeline
}

func (s *Service) returnURL(id string) string {
	return s.o.PublicURL + "/v1/flows/" + id + "/return"
}

// ---------------------------------------------------------------------------
// Start: an interceptor.

// ReturnURLHeader offers the return route of a flow whose page URL the
// caller builds itself (Baidu: successUrl and failedUrl).
const (
	FlowIDHeader    = "X-Idv-Flow-Id"
	ReturnURLHeader = "X-Idv-Return-Url"
	// RedirectHeader on a starting request says where the browser goes
	// after the return route when the provider's request has no member
	// for it (Baidu). A RedirectUrl member wins.
	RedirectHeader = "X-Idv-Redirect"
)

// Intercept starts a flow around the action that opens it. The flow is
// stored before the provider is called, so a store that is down refuses
// the call with nothing sent, and the provider is never given a return
// route that leads nowhere.
func (s *Service) Intercept(ctx context.Context, c gateway.Contract, call *gateway.Call, next gateway.CallFunc) (*gateway.Answer, error) {
	k := kindFor(call.Op.Action)
	if k == nil || call.Op.Control {
		return next(ctx, call)
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(call.Body, &members) != nil || members == nil {
		return next(ctx, call) // the contract names what is wrong
	}
	now := s.o.Now()
	f := &Flow{ID: newID(flowPrefix), Kind: k.name, Action: k.start, Caller: call.Caller.ID, Test: call.Caller.Test,
		State: StatePending, Created: now, Expires: now.Add(s.ttl(k))}
	for _, m := range k.keep {
		var v string
		if json.Unmarshal(members[m], &v) == nil && v != "" {
			setRef(f, m, v)
		}
	}
	if k.extData != "" {
		if raw, ok := members[k.extData]; ok && string(raw) != "null" {
			f.ExtData = append(json.RawMessage(nil), raw...)
		}
	}
	if h := call.Header.Get(RedirectHeader); h != "" {
		if err := checkReturnTo(h); err != nil {
			return nil, errs.E(errs.Invalid, "InvalidParameterValue", "header %s: %s", RedirectHeader, err.Error())
		}
		f.ReturnTo = h
	}
	body := call.Body
	if k.redirect != "" && s.o.PublicURL != "" {
		var v string
		if raw, ok := members[k.redirect]; ok {
			if json.Unmarshal(raw, &v) != nil {
				return next(ctx, call) // not a string: the contract refuses it
			}
			if v != "" {
				f.ReturnTo = v
			}
		}
		members[k.redirect] = mustJSON(s.returnURL(f.ID))
		b, err := json.Marshal(members)
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, "", "flows: re-encode the request")
		}
		body = b
	}
	if err := s.save(ctx, f); err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, "InternalError.FlowStoreUnavailable",
			"the flow store could not be reached; nothing was sent; retry later")
	}
	cc := *call
	cc.Body = body
	ans, err := next(ctx, &cc)
	tok := ""
	if err == nil && ans != nil {
		tok = gateway.LookupString(ans.Body, k.token)
	}
	if tok == "" {
		// No flow began (refused, failed, or a failure envelope).
		_ = s.o.store.del(context.WithoutCancel(ctx), keyFlow+f.ID)
		return ans, err
	}
	f.Token, f.Sandbox = tok, ans.Sandbox
	if k.name == "faceadv" {
		if o := gateway.LookupString(ans.Body, "data.result.orderNo"); o != "" {
			setRef(f, "orderNo", o)
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	// A workflow (direct invocation) sees no headers: it finds the flow by
	// the token it was given.
	_ = s.o.store.set(sctx, keyToken+tokenKey(tok), []byte(f.ID), s.ttl(k)+s.o.Retention)
	if err := s.save(sctx, f); err == nil {
		err = s.o.store.schedule(sctx, qOpen, f.ID, now.Add(s.o.Poll))
		if err != nil {
			s.o.Logger.Error("flow could not be scheduled; its result route still pulls it", slog.String("flow", f.ID))
		}
	} else {
		// The provider answered (and may have billed): answer it; the
		// return route will say the flow is unknown.
		s.o.Logger.Error("flow could not be stored after its first call", slog.String("flow", f.ID),
			slog.String("error_class", errs.KindOf(err).String()))
		return ans, nil
	}
	out := *ans
	out.Header = map[string]string{}
	for hk, hv := range ans.Header {
		out.Header[hk] = hv
	}
	out.Header[FlowIDHeader] = f.ID
	if k.redirect == "" && s.o.PublicURL != "" {
		out.Header[ReturnURLHeader] = s.returnURL(f.ID)
	}
	return &out, nil
}

func (s *Service) ttl(k *kind) time.Duration {
	if s.o.TTL > 0 {
		return s.o.TTL
	}
	return k.ttl
}

// checkReturnTo accepts an absolute http(s) URL, the only kind a browser
// should be sent on to.
func checkReturnTo(u string) error {
	if len(u) > 2048 {
		return errors.New("longer than 2048 characters")
	}
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return errors.New("must be an absolute http or https URL")
	}
	return nil
}

// ---------------------------------------------------------------------------
// Storage.

func (s *Service) save(ctx context.Context, f *Flow) error {
	b, err := f.marshal()
	if err != nil {
		return err
	}
	sealed, err := s.o.Keys.Seal(keyFlow+f.ID, b)
	if err != nil {
		return err
	}
	ttl := f.Expires.Sub(s.o.Now()) + s.o.Retention
	if ttl <= 0 {
		ttl = s.o.Retention
	}
	return s.o.store.set(ctx, keyFlow+f.ID, sealed, ttl)
}

// tokenKey keeps a provider token out of store key names in the clear.
func tokenKey(tok string) string {
	sum := sha256.Sum256([]byte("idverify-flow-token\x00" + tok))
	return hex.EncodeToString(sum[:16])
}

// ByToken finds the flow a provider token belongs to; "" when none.
// Tokens of different providers never collide (each provider's are long
// and random), so the index is keyed by the token alone.
func (s *Service) ByToken(ctx context.Context, tok string) (string, error) {
	b, err := s.o.store.get(ctx, keyToken+tokenKey(tok))
	return string(b), err
}

// Get loads a flow; nil, nil when unknown.
func (s *Service) Get(ctx context.Context, id string) (*Flow, error) {
	if !validID(flowPrefix, id) {
		return nil, nil
	}
	b, err := s.o.store.get(ctx, keyFlow+id)
	if err != nil || b == nil {
		return nil, err
	}
	plain, err := s.o.Keys.Open(keyFlow+id, b)
	if err != nil {
		return nil, err
	}
	return unmarshalFlow(plain)
}

// lease takes a short lock on name; release gives it back.
func (s *Service) lease(ctx context.Context, name string, ttl time.Duration) (release func(), ok bool, err error) {
	tok := newID("l_")
	ok, err = s.o.store.setNX(ctx, keyLease+name, []byte(tok), ttl)
	if err != nil || !ok {
		return func() {}, ok, err
	}
	return func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if b, _ := s.o.store.get(rctx, keyLease+name); string(b) == tok {
			_ = s.o.store.del(rctx, keyLease+name)
		}
	}, true, nil
}

// ---------------------------------------------------------------------------
// Advancing a flow.

// Advance pulls an open flow's result now (unless pulled moments ago),
// ends it when the answer is final or its time is up, and queues its
// webhooks. It returns the flow as it stands.
func (s *Service) Advance(ctx context.Context, id string, force bool) (*Flow, error) {
	release, ok, err := s.lease(ctx, "flow:"+id, leaseTTL)
	if err != nil {
		return nil, err
	}
	defer release()
	f, err := s.Get(ctx, id)
	if err != nil || f == nil {
		return f, err
	}
	if !ok || f.Done() || f.Token == "" {
		return f, nil // another runner has it, or nothing is left to do
	}
	now := s.o.Now()
	if !force && now.Sub(f.LastPull) < pullMinGap && now.Before(f.Expires) {
		return f, nil
	}
	k := kindNamed(f.Kind)
	if k == nil {
		return f, nil
	}
	p := s.pl()
	if p == nil {
		return f, errs.E(errs.Unavailable, "", "flows: no pipeline to pull through")
	}
	state := StatePending
	for range 2 {
		action, body := k.pull(f)
		f.Pulls++
		f.LastPull = now
		ans, err := p.Internal(ctx, &gateway.Caller{ID: f.Caller, Test: f.Test}, action, body)
		if err != nil {
			s.o.Logger.Info("flow result not available yet", slog.String("flow", f.ID), slog.String("action", action),
				slog.String("code", errs.As(err).Code))
			break
		}
		var again bool
		state, again = k.judge(f, ans.Body)
		f.Result, f.ResultAction = append(json.RawMessage(nil), ans.Body...), action
		if ans.Sandbox {
			f.Sandbox = true
		}
		if !again {
			break
		}
	}
	if state == StatePending && !now.Before(f.Expires) {
		state = StateExpired
	}
	if state != StatePending {
		f.State = state
		f.Finished = &now
	}
	if err := s.save(ctx, f); err != nil {
		return f, err
	}
	if f.Done() {
		_ = s.o.store.unschedule(ctx, qOpen, f.ID)
		if err := s.announce(ctx, f); err != nil {
			return f, err
		}
	} else {
		_ = s.o.store.schedule(ctx, qOpen, f.ID, s.nextPull(f, now))
	}
	return f, nil
}

// nextPull spaces pulls out (Poll, doubling to MaxPoll) and never later
// than the flow's end, when it is pulled one last time.
func (s *Service) nextPull(f *Flow, now time.Time) time.Time {
	d := s.o.Poll
	for i := 1; i < f.Pulls && d < s.o.MaxPoll; i++ {
		d *= 2
	}
	d = min(d, s.o.MaxPoll)
	t := now.Add(d)
	if t.After(f.Expires) {
		t = f.Expires
	}
	return t
}

// ---------------------------------------------------------------------------
// Sweeping.

// SweepReport says what a sweep did.
type SweepReport struct {
	Flows      int `json:"flows"`      // open flows pulled
	Finished   int `json:"finished"`   // of which ended
	Deliveries int `json:"deliveries"` // delivery attempts
	Delivered  int `json:"delivered"`  // of which accepted
}

// Sweep moves open flows and due deliveries along, within ctx.
func (s *Service) Sweep(ctx context.Context) (SweepReport, error) {
	var r SweepReport
	now := s.o.Now()
	ids, err := s.o.store.due(ctx, qOpen, now, 50)
	if err != nil {
		return r, err
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return r, nil
		}
		f, err := s.Advance(ctx, id, true)
		if err != nil {
			s.o.Logger.Warn("flow sweep", slog.String("flow", id), slog.String("error_class", errs.KindOf(err).String()))
			continue
		}
		if f == nil {
			_ = s.o.store.unschedule(ctx, qOpen, id) // gone: its record expired
			continue
		}
		r.Flows++
		if f.Done() {
			r.Finished++
		}
	}
	members, err := s.o.store.due(ctx, qDue, s.o.Now(), 100)
	if err != nil {
		return r, err
	}
	for _, m := range members {
		if ctx.Err() != nil {
			return r, nil
		}
		ok, tried := s.deliver(ctx, m)
		if tried {
			r.Deliveries++
		}
		if ok {
			r.Delivered++
		}
	}
	return r, nil
}

// Run sweeps every interval until ctx ends: long-lived servers only.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			sctx, cancel := context.WithTimeout(ctx, max(interval, 25*time.Second))
			if _, err := s.Sweep(sctx); err != nil {
				s.o.Logger.Warn("flow sweep failed", slog.String("error_class", errs.KindOf(err).String()))
			}
			cancel()
		}
	}
}
