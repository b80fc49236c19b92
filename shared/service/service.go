// Package service runs one FaceID action: precheck, then the provider. It is
// the only place that decides whether a request costs money, so every surface
// (HTTP, Tencent wire form, direct invocation) goes through it.
package service

import (
	"context"
	"encoding/json"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/jsonshape"
	"github.com/idverify/idverify/shared/precheck"
	"github.com/idverify/idverify/shared/provider"
)

// Source says who produced an answer; it is logged and shown in a header.
type Source string

const (
	FromProvider Source = "provider" // the configured provider (tencent or sandbox)
	FromPrecheck Source = "precheck" // answered locally, nothing was billed
)

// Result is the inner Response object of a successful call.
type Result struct {
	Body   json.RawMessage // the inner Response object, RequestId included
	Source Source
	// Code is the business result code when the action has one ("0", "-2",
	// "Success"...), for logs and metrics; never PII.
	Code string
	// Rule explains a precheck answer ("IdCard: check digit does not match").
	Rule string
}

// Service runs actions against one provider.
type Service struct {
	Provider provider.FaceID
	// Admit, when set, is asked just before a call reaches the provider
	// (after precheck, so answers made locally never use up the provider's
	// limits). An error refuses the call; nothing was sent or billed.
	Admit func(ctx context.Context, action string) error
}

// Do runs action with the caller's params. requestID is used as the RequestId
// of answers made locally.
func (s *Service) Do(ctx context.Context, action string, params []byte, requestID string) (*Result, error) {
	a, ok := faceid.Lookup(action)
	if !ok {
		return nil, errs.E(errs.NotFound, "InvalidAction", "unknown action %q", truncate(action, 64))
	}
	_, local, err := precheck.Check(a, params)
	if err != nil {
		return nil, err
	}
	if local != nil {
		body, err := json.Marshal(map[string]string{
			local.ResultField: local.Code.Code,
			"Description":     local.Code.Description,
			"RequestId":       requestID,
		})
		if err != nil {
			return nil, errs.Wrap(err, errs.Internal, "", "encode local result")
		}
		return &Result{Body: body, Source: FromPrecheck, Code: local.Code.Code, Rule: local.Field + ": " + local.Rule}, nil
	}
	if len(params) == 0 {
		params = []byte("{}")
	}
	if s.Admit != nil {
		if err := s.Admit(ctx, action); err != nil {
			return nil, err
		}
	}
	body, err := s.Provider.Call(provider.WithRequestID(ctx, requestID), action, params)
	if err != nil {
		return nil, err
	}
	return &Result{Body: body, Source: FromProvider, Code: resultCode(a, body)}, nil
}

// resultCode reads the action's business result field, if it has one.
func resultCode(a *faceid.Action, body json.RawMessage) string {
	if a.ResultField == "" {
		return ""
	}
	// One pass over the answer, nothing copied: a GetDetectInfo answer
	// can carry megabytes of images.
	raw, ok := jsonshape.Member(body, a.ResultField)
	if !ok {
		return ""
	}
	var code string
	if json.Unmarshal(raw, &code) != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			code = n.String()
		}
	}
	return truncate(code, 64)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
