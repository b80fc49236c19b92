package app

import (
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

// Part is one provider's share of a function that serves several.
type Part struct {
	Name  string // "faceid", "faceAdv", "faceprint"
	Build Builder
	// Prefixes, ActionPrefix and Actions are the part's routes, used only
	// when it is left out (live without its credentials), to answer them
	// with a clear 501 instead of another provider's 404.
	Prefixes     []string
	ActionPrefix string
	Actions      []string
	// Pages are static documents the function serves (GET, no caller):
	// a part with Pages and no Build contributes only those.
	Pages map[string]gateway.Page
}

// extensions are parts every function of this binary serves besides its
// own: a package linked into the binary registers one at init (flows, by a
// blank import in the mains of the actions that start flows and in
// functions/all), so a function that starts no flow does not carry it.
var extensions []Part

// Extend registers a part every function of this binary serves. Call it
// from an init function.
func Extend(p Part) { extensions = append(extensions, p) }

// ServeAll runs one function serving every part through one pipeline: the
// local server and the one-function deployment. The first part answers
// routes nobody claims.
func ServeAll(parts ...Part) {
	serve(func(ctx context.Context, env *Env) (*gateway.Pipeline, string, error) {
		return BuildAll(ctx, env, parts...)
	})
}

// BuildAll builds every part's contract and the pipeline over them.
func BuildAll(ctx context.Context, env *Env, parts ...Part) (*gateway.Pipeline, string, error) {
	var built []*Built
	var banners []string
	pages := map[string]gateway.Page{}
	parts = append(parts[:len(parts):len(parts)], extensions...)
	for i, p := range parts {
		for k, v := range p.Pages {
			pages[k] = v
		}
		if p.Build == nil {
			continue
		}
		b, err := p.Build(ctx, env)
		if err != nil && i > 0 && errors.Is(err, ErrNoCredentials) {
			// Live without this provider's keys: its paths answer that it
			// is not configured here. Never the sandbox in its place.
			env.Log.Warn("provider not served: no credentials", slog.String("part", p.Name))
			b = &Built{Contract: unconfigured{part: p, why: errs.As(err).Message},
				Banner: fmt.Sprintf("idverify: %s is not served (live mode without its credentials)\n", p.Name)}
			err = nil
		}
		if err != nil {
			e := errs.As(err)
			x := *e
			x.Message = p.Name + ": " + e.Message
			return nil, "", &x
		}
		built = append(built, b)
		if b.Banner != "" {
			banners = append(banners, b.Banner)
		}
	}
	pl, err := env.pipelineOf(pages, built)
	if err != nil {
		return nil, "", err
	}
	return pl, strings.Join(banners, "\n"), nil
}

// unconfigured answers for a provider left out of a multi-provider
// function: a clear 501 naming what to configure, and nothing else.
type unconfigured struct {
	part Part
	why  string
}

func (u unconfigured) err() *errs.Error {
	return errs.E(errs.NotFound, "ProviderNotConfigured", "%s is not served by this function: %s", u.part.Name, u.why)
}

func (u unconfigured) Name() string { return u.part.Name }
func (u unconfigured) Mode() string { return ModeLive }

func (u unconfigured) Route(req *gateway.Request) (gateway.Op, bool) {
	for _, pre := range u.part.Prefixes {
		if strings.HasPrefix(req.Path, pre) {
			return gateway.Op{Surface: u.part.Name, Err: u.err(), Status: http.StatusNotImplemented}, true
		}
	}
	return gateway.Op{}, false
}

func (u unconfigured) RouteInvoke(action string, _ map[string]json.RawMessage) (gateway.Op, bool) {
	if (u.part.ActionPrefix != "" && strings.HasPrefix(action, u.part.ActionPrefix)) || contains(u.part.Actions, action) {
		return gateway.Op{Surface: "invoke", Err: u.err()}, true
	}
	return gateway.Op{}, false
}

func (u unconfigured) Call(context.Context, *gateway.Call) (*gateway.Answer, error) {
	return nil, u.err()
}

func (u unconfigured) Render(_ gateway.Op, _ *gateway.Answer, e *errs.Error, requestID string) *gateway.Response {
	b, _ := json.Marshal(map[string]string{"error": e.Code, "message": e.PublicMessage(), "requestId": requestID})
	return &gateway.Response{Status: e.Kind.HTTPStatus(), Header: http.Header{}, Body: b}
}

func (u unconfigured) Output(gateway.Op, *gateway.Answer) ([]byte, error) { return nil, u.err() }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
