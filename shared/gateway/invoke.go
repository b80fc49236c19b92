package gateway

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/jsonshape"
)

// invokeCaller is who a direct invocation comes from: the platform's IAM
// authorised the invoker, so it is served like the deployment's own mode.
var invokeCaller = &Caller{ID: "invoke"}

// Invoke is direct invocation from Step Functions, ASW or an SDK: the
// request object in, the contract's answer out. A function serving several
// operations takes the operation from an "Action" member; an
// "IdempotencyKey" member plays the Idempotency-Key header's part.
func (p *Pipeline) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	ev := event{surface: "invoke", requestID: NewRequestID()}
	out, c, op, err := p.invoke(ctx, payload, &ev)
	ev.latency = time.Since(start)
	if err != nil {
		ev.fail(errs.As(err))
		if ie, ok := c.(InvokeErrors); ok {
			err = ie.InvokeError(op, errs.As(err))
		}
	}
	p.log(ctx, ev)
	return out, err
}

// invoke answers a direct invocation; once routed it also returns the
// contract and operation, so Invoke renders every later failure the
// contract's way.
func (p *Pipeline) invoke(ctx context.Context, payload []byte, ev *event) ([]byte, Contract, Op, error) {
	if int64(len(payload)) > MaxInvokePayload {
		return nil, nil, Op{}, tooLarge(int64(len(payload)), MaxInvokePayload)
	}
	// The payload is re-encoded without its routing members below: refuse
	// first what re-encoding would hide from the contract's own checks
	// (a duplicate member, invalid UTF-8).
	if err := jsonshape.Check(nil, payload); err != nil {
		return nil, nil, Op{}, errs.E(errs.Invalid, "InvalidParameter", "the invocation payload is not one JSON object: %s", strings.TrimPrefix(err.Error(), "jsonshape: "))
	}
	members, order, ok := objectMembers(payload)
	if !ok {
		return nil, nil, Op{}, errs.E(errs.Invalid, "InvalidParameter", "the invocation payload must be a JSON object (the request)")
	}
	var action, idemKey string
	_, hadAction := members["Action"]
	_, hadKey := members[IdempotencyMember]
	for name, dst := range map[string]*string{"Action": &action, IdempotencyMember: &idemKey} {
		if raw, ok := members[name]; ok {
			if err := json.Unmarshal(raw, dst); err != nil {
				return nil, nil, Op{}, errs.E(errs.Invalid, "InvalidParameterValue", "field %s must be a string", name)
			}
			delete(members, name)
		}
	}
	c, op, ok := p.routeInvoke(action, members)
	if !ok {
		return nil, nil, Op{}, errs.E(errs.NotFound, "InvalidAction", "Action %q is not served by this function", truncate(action, 64))
	}
	ev.contract, ev.action = c.Name(), op.Action
	if op.Err != nil {
		return nil, c, op, op.Err
	}
	body := payload
	if hadAction || hadKey {
		body = withoutMembers(len(payload), order, "Action", IdempotencyMember)
	}
	if op.MaxBody > 0 && int64(len(body)) > op.MaxBody {
		return nil, c, op, tooLarge(int64(len(body)), op.MaxBody)
	}
	ev.caller = invokeCaller.ID
	o, err := p.execute(ctx, c, &Call{Op: op, Caller: invokeCaller, Body: body, RequestID: ev.requestID}, idemKey)
	ev.done(o)
	if err != nil {
		return nil, c, op, err
	}
	out, err := c.Output(op, o.ans)
	return out, c, op, err
}

func (p *Pipeline) routeInvoke(action string, members map[string]json.RawMessage) (Contract, Op, bool) {
	if action == "" {
		op, ok := p.contracts[0].RouteInvoke("", members)
		return p.contracts[0], op, ok
	}
	for _, c := range p.contracts {
		if op, ok := c.RouteInvoke(action, members); ok {
			return c, op, true
		}
	}
	return nil, Op{}, false
}

// MaxInvokePayload caps a direct invocation (Lambda's own limit for a
// synchronous invocation is 6 MB; SCF's is similar).
const MaxInvokePayload = 16 << 20

// Internal runs action for caller as if caller had sent body by direct
// invocation, through everything the pipeline applies to a call (limits,
// token ownership, interceptors) but without idempotency: the flows
// package pulls a flow's result this way, as the caller that started it.
func (p *Pipeline) Internal(ctx context.Context, caller *Caller, action string, body []byte) (*Answer, error) {
	members, _, ok := objectMembers(body)
	if !ok {
		return nil, errs.E(errs.Invalid, "InvalidParameter", "internal call %s: the body must be a JSON object", truncate(action, 64))
	}
	c, op, ok := p.routeInvoke(action, members)
	if !ok {
		return nil, errs.E(errs.NotFound, "InvalidAction", "Action %q is not served by this function", truncate(action, 64))
	}
	if op.Err != nil {
		return nil, op.Err
	}
	start := time.Now()
	ev := event{surface: "internal", requestID: NewRequestID(), contract: c.Name(), action: op.Action, caller: caller.ID}
	o, err := p.execute(ctx, c, &Call{Op: op, Caller: caller, Body: body, RequestID: ev.requestID}, "")
	ev.done(o)
	ev.latency = time.Since(start)
	if err != nil {
		ev.fail(errs.As(err))
	}
	p.log(ctx, ev)
	return o.ans, err
}

// member is one member of a JSON object: its name unescaped, its value as
// it stands in the object.
type member struct {
	name  string
	value []byte
}

// objectMembers reads the members of the JSON object b in one pass, their
// values not copied (a payload may carry 6 MB of video), by name and in
// order. ok is false when b is not one JSON object. Callers refuse
// duplicate members first; the last would count, as in encoding/json.
func objectMembers(b []byte) (byName map[string]json.RawMessage, order []member, ok bool) {
	byName = map[string]json.RawMessage{}
	ok = jsonshape.Members(b, func(name, value []byte) bool {
		order = append(order, member{string(name), value})
		byName[string(name)] = value
		return true
	})
	return byName, order, ok
}

// withoutMembers writes the object of members in order, leaving out those
// named drop: one copy of the values, which are written as they came
// (the payload was checked as JSON, UTF-8 included, before). size is the
// original object's, the capacity to start from.
func withoutMembers(size int, members []member, drop ...string) []byte {
	out := make([]byte, 0, size)
	out = append(out, '{')
	for _, m := range members {
		if slices.Contains(drop, m.name) {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		name, _ := json.Marshal(m.name) // a string always encodes
		out = append(out, name...)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}')
}
