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

func (g *Gateway) invoke(ctx context.Context, payload []byte, ev *event) ([]byte, error) {
	var members map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&members); err != nil || members == nil {
		return nil, errs.E(errs.Invalid, "InvalidParameter", "the invocation payload must be a JSON object (the FaceID request)")
	}
	action := g.only
	if raw, ok := members["Action"]; ok {
		if err := json.Unmarshal(raw, &action); err != nil {
			return nil, errs.E(errs.Invalid, "InvalidParameterValue", "field Action must be a string")
		}
		delete(members, "Action")
		var err error
		if payload, err = json.Marshal(members); err != nil {
			return nil, errs.Wrap(err, errs.Internal, "", "re-encode payload")
		}
	}
	if action == "" {
		return nil, errs.E(errs.Invalid, "MissingParameter", "this function serves several actions: add an \"Action\" member to the payload")
	}
	ev.action = action
	res, err := g.run(ctx, action, payload, ev.requestID)
	if err != nil {
		return nil, err
	}
	*ev = ev.done(res)
	return res.Body, nil
}
