package app

import (
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/owners"
	"github.com/idverify/idverify/shared/runtime"
)

// Pipeline builds the one request pipeline of this function around
// contracts, with the process's caller policy, rate limiter, idempotency
// store and flow-token owners. Every provider goes through it.
func (e *Env) Pipeline(contracts ...gateway.Contract) (*gateway.Pipeline, error) {
	return e.pipeline(nil, contracts)
}

// pipeline is Pipeline serving static pages too (ServeAll's parts).
func (e *Env) pipeline(pages map[string]gateway.Page, contracts []gateway.Contract) (*gateway.Pipeline, error) {
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
	opts := gateway.Options{
		Contracts:   contracts,
		Auth:        auth,
		Limiter:     gatewayLimiter{e.Limiter()},
		Idempotency: idem,
		Logger:      e.Log,
		Pages:       pages,
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
