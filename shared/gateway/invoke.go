package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/idverify/idverify/shared/errs"
)

// Invoke is surface 3, direct invocation from Step Functions, ASW or an SDK:
// the FaceID request object in, the inner response object out. A function
// that serves several actions takes the action from an "Action" member.
// The platform's IAM has authenticated the invoker already.
func (g *Gateway) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	start := time.Now()
	ev := event{surface: "invoke", requestID: newRequestID()}
	out, err := g.invoke(ctx, payload, &ev)
	ev.latency = time.Since(start)
	if err != nil {
		ev = ev.failed(err)
	}
	g.log(ctx, ev)
	return out, err
}

// IdempotencyMember is the payload member that carries an idempotency key
// in a direct invocation (the HTTP surfaces use the Idempotency-Key header).
const IdempotencyMember = "IdempotencyKey"

// invokeCaller is who a direct invocation comes from: the platform's IAM
// authorised the invoker, so it is served like the deployment's own mode.
var invokeCaller = &Caller{ID: "invoke"}

func (g *Gateway) invoke(ctx context.Context, payload []byte, ev *event) ([]byte, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&members); err != nil || members == nil {
		return nil, errs.E(errs.Invalid, "InvalidParameter", "the invocation payload must be a JSON object (the FaceID request)")
	}
	action, idemKey := g.only, ""
	_, hasAction := members["Action"]
	_, hasKey := members[IdempotencyMember]
	if hasAction || hasKey {
		for name, dst := range map[string]*string{"Action": &action, IdempotencyMember: &idemKey} {
			if raw, ok := members[name]; ok {
				if err := json.Unmarshal(raw, dst); err != nil {
					return nil, errs.E(errs.Invalid, "InvalidParameterValue", "field %s must be a string", name)
				}
				delete(members, name)
			}
		}
		var err error
		if payload, err = json.Marshal(members); err != nil {
			return nil, errs.Wrap(err, errs.Internal, "", "re-encode payload")
		}
	}
	if action == "" {
		return nil, errs.E(errs.Invalid, "MissingParameter", "this function serves several actions: add an \"Action\" member to the payload")
	}
	ev.action = action
	o, err := g.execute(ctx, call{caller: invokeCaller, action: action, params: payload, requestID: ev.requestID, idemKey: idemKey})
	*ev = ev.done(o)
	if err != nil {
		return nil, err
	}
	return o.res.Body, nil
}
