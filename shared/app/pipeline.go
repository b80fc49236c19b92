package app

import (
	"slices"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/owners"
	"github.com/idverify/idverify/shared/runtime"
)

// Pipeline builds the one request pipeline of this function around
// contracts, with the process's caller policy, rate limiter, idempotency
// store and flow-token owners. Every provider goes through it.
func (e *Env) Pipeline(contracts ...gateway.Contract) (*gateway.Pipeline, error) {
	return e.pipeline(nil, contracts, nil)
}

// pipelineOf builds the pipeline over built parts: their contracts, their
// interceptors, and each part's Ready once the pipeline exists.
func (e *Env) pipelineOf(pages map[string]gateway.Page, parts []*Built) (*gateway.Pipeline, error) {
	var contracts []gateway.Contract
	var icpt []gateway.Interceptor
	for _, b := range parts {
		contracts = append(contracts, b.Contract)
		icpt = append(icpt, b.Interceptors...)
	}
	p, err := e.pipeline(pages, contracts, icpt)
	if err != nil {
		return nil, err
	}
	for _, b := range parts {
		if b.Ready != nil {
			b.Ready(p)
		}
	}
	return p, nil
}

// pipeline is Pipeline serving static pages too (ServeAll's parts).
func (e *Env) pipeline(pages map[string]gateway.Page, contracts []gateway.Contract, icpt []gateway.Interceptor) (*gateway.Pipeline, error) {
	mode := ModeSandbox
	for _, c := range contracts {
		if c.Mode() == ModeLive {
			mode = ModeLive // the caller policy of a paid provider applies
		}
	}
	auth, err := Authenticator(e, mode)
	if err != nil {
		return nil, err
	}
	idem, err := e.Idempotency()
	if err != nil {
		return nil, err
	}
	report, err := e.accounting(auth, mode)
	if err != nil {
		return nil, err
	}
	contracts = append(contracts[:len(contracts):len(contracts)], report) // GET /v1/usage
	opts := gateway.Options{
		Contracts:   contracts,
		Auth:        auth,
		Limiter:     gatewayLimiter{e.Limiter()},
		Idempotency: idem,
		Logger:      e.Log,
		Pages:       pages,
		// Policy every call goes through comes first (outermost); then
		// what the parts add (flows).
		Interceptors: append(e.interceptors(), icpt...),
	}
	if e.Redis != nil {
		opts.Owners = owners.NewRedis(e.Redis, "idv:own:")
	} else {
		// Without a shared store, an event platform's other instances
		// (and the other functions of a flow) bind tokens this one cannot
		// see: a token it does not know is served there, and one it knows
		// is still checked. Set IDV_REDIS_URL to bind every token.
		rt, _ := runtime.Detect(e.Getenv)
		opts.OwnersPartial = rt != runtime.ModeLocal
	}
	return gateway.New(opts)
}

// interceptors are the function-wide ones, outermost first: usage, the
// per-person limits, the budgets (accounting.go, built by e.accounting).
func (e *Env) interceptors() []gateway.Interceptor { return slices.Clip(e.shared.acct.icpt) }
