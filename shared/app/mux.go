package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// Part is one provider's share of a function that serves several: the
// paths it owns and the direct-invocation actions it answers.
type Part struct {
	Name  string // "faceid", "faceAdv", "faceprint": the key of its sandbox table
	Build Builder
	// Prefixes are the path prefixes the part owns ("/tech/ai/face/"); the
	// first part, with none, gets everything else.
	Prefixes []string
	// ActionPrefix routes a direct invocation whose "Action" member starts
	// with it ("faceprint/"); Actions lists exact names ("faceAdv").
	ActionPrefix string
	Actions      []string
	// Scenarios is the part's sandbox table, merged into
	// GET /v1/sandbox/scenarios.
	Scenarios func() any
}

// ServeAll runs one function serving every part: the local server and the
// one-function deployment. The first part is the default route.
func ServeAll(parts ...Part) {
	Serve(func(ctx context.Context, env *Env) (*Built, error) { return BuildAll(ctx, env, parts...) })
}

// BuildAll builds every part and the mux over them.
func BuildAll(ctx context.Context, env *Env, parts ...Part) (*Built, error) {
	m := &mux{}
	var banners []string
	for i, p := range parts {
		b, err := p.Build(ctx, env)
		if err != nil && i > 0 && errors.Is(err, ErrNoCredentials) {
			// Live without this provider's keys: its paths answer that it
			// is not configured here. Never the sandbox in its place.
			env.Log.Warn("provider not served: no credentials", slog.String("part", p.Name))
			b = &Built{Handler: unconfigured{name: p.Name, why: errs.As(err).Message},
				Banner: fmt.Sprintf("idverify: %s is not served (live mode without its credentials)\n", p.Name)}
			err = nil
		}
		if err != nil {
			return nil, errs.Wrap(err, errs.KindOf(err), "", "%s: %s", p.Name, errs.As(err).Message)
		}
		if i == 0 {
			m.fallback = b.Handler
		}
		m.parts = append(m.parts, routed{Part: p, h: b.Handler})
		if b.Banner != "" {
			banners = append(banners, b.Banner)
		}
	}
	return &Built{Handler: m, Banner: strings.Join(banners, "\n")}, nil
}

type routed struct {
	Part
	h gateway.Handler
}

// mux routes requests and invocations to the part that owns them.
type mux struct {
	parts    []routed
	fallback gateway.Handler
}

func (m *mux) ServeRequest(ctx context.Context, req *gateway.Request) *gateway.Response {
	if req.Path == "/v1/sandbox/scenarios" && len(m.parts) > 1 && req.Method == http.MethodGet {
		return m.scenarios(ctx, req)
	}
	for _, p := range m.parts {
		for _, pre := range p.Prefixes {
			if strings.HasPrefix(req.Path, pre) {
				return p.h.ServeRequest(ctx, req)
			}
		}
	}
	return m.fallback.ServeRequest(ctx, req)
}

func (m *mux) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var head struct {
		Action string `json:"Action"`
	}
	// Only the routing member is read here; the part decodes (strictly)
	// the whole payload itself.
	_ = json.NewDecoder(bytes.NewReader(payload)).Decode(&head)
	for _, p := range m.parts {
		if head.Action != "" && ((p.ActionPrefix != "" && strings.HasPrefix(head.Action, p.ActionPrefix)) || contains(p.Actions, head.Action)) {
			return p.h.Invoke(ctx, payload)
		}
	}
	return m.fallback.Invoke(ctx, payload)
}

// scenarios merges every part's sandbox table: FaceID's rows stay under
// "scenarios" (what the FaceID tools read), the others under their names.
func (m *mux) scenarios(ctx context.Context, req *gateway.Request) *gateway.Response {
	resp := m.fallback.ServeRequest(ctx, req)
	if resp.Status != http.StatusOK {
		return resp
	}
	var doc map[string]any
	if json.Unmarshal(resp.Body, &doc) != nil {
		return resp
	}
	for _, p := range m.parts[1:] {
		if p.Scenarios != nil {
			doc[p.Name] = p.Scenarios()
		}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return resp
	}
	resp.Body = append(b, '\n')
	return resp
}

// unconfigured answers for a provider left out of a multi-provider
// function: a clear 501 naming what to configure, and nothing else.
type unconfigured struct{ name, why string }

func (u unconfigured) err() *errs.Error {
	return errs.E(errs.NotFound, "ProviderNotConfigured", "%s is not served by this function: %s", u.name, u.why)
}

func (u unconfigured) ServeRequest(_ context.Context, req *gateway.Request) *gateway.Response {
	e := u.err()
	b, _ := json.Marshal(map[string]string{"error": e.Code, "message": e.Message, "requestId": req.RequestID})
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return &gateway.Response{Status: http.StatusNotImplemented, Header: h, Body: b}
}

func (u unconfigured) Invoke(context.Context, []byte) ([]byte, error) { return nil, u.err() }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
