package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/resp"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/logging"
	"github.com/idverify/idverify/shared/runtime"
	"github.com/idverify/idverify/shared/secrets"
	_ "github.com/idverify/idverify/shared/secrets/backends" // the reference schemes this build links (see build tags)
)

// Env is what app hands every function's wiring: configuration with secret
// references already resolved, the logger, and the shared services every
// provider may use.
type Env struct {
	// Getenv reads configuration; secret references are resolved (and
	// refreshed after their TTL), so a key read at call time rotates.
	Getenv func(string) string
	Log    *slog.Logger
	// Production is IDV_ENV=production: no silent sandbox, no plain secrets.
	Production bool
	// Redis is the shared store from IDV_REDIS_URL, nil when none is
	// configured (then state is per instance, in memory).
	Redis *resp.Client

	shared shared
}

// Built is what a provider's wiring returns: its contract, which the
// function serves through the one pipeline.
type Built struct {
	Contract gateway.Contract
	// Banner is printed when the local server starts.
	Banner string
	// Interceptors wrap every call of the function's pipeline (all
	// contracts', not only this one's): flows start and end there.
	Interceptors []gateway.Interceptor
	// Ready is given the pipeline once it is built (a part that calls
	// other contracts through it, such as flows pulling results).
	Ready func(*gateway.Pipeline)
}

// Builder wires one provider's contract from its Env.
type Builder func(ctx context.Context, env *Env) (*Built, error)

// Serve runs a function serving the contract build makes, and exits
// non-zero with a clear message when it cannot start. Every main in
// functions/ ends here or in ServeAll.
func Serve(build Builder) {
	serve(func(ctx context.Context, env *Env) (*gateway.Pipeline, string, error) {
		b, err := build(ctx, env)
		if err != nil {
			return nil, "", err
		}
		all := []*Built{b}
		banners := []string{b.Banner}
		for _, x := range extensions {
			xb, err := x.Build(ctx, env)
			if err != nil {
				return nil, "", err
			}
			all = append(all, xb)
			if xb.Banner != "" {
				banners = append(banners, xb.Banner)
			}
		}
		p, err := env.pipelineOf(nil, all)
		return p, strings.Join(banners, "\n"), err
	})
}

func serve(build func(ctx context.Context, env *Env) (*gateway.Pipeline, string, error)) {
	level, err := logLevel(os.Getenv)
	log := logging.New(os.Stderr, level) // info when the level is refused, to say why
	opts := runtime.Options{Logger: log}
	ctx := context.Background()
	var env *Env
	if err == nil {
		env, err = NewEnv(ctx, os.Getenv, os.Environ(), log)
	}
	var p *gateway.Pipeline
	var banner string
	if err == nil {
		p, banner, err = build(ctx, env)
	}
	if err != nil {
		// Fail closed, and tell the platform: on Lambda this is an init
		// error, on SCF a failed start.
		fmt.Fprintln(os.Stderr, "idverify: cannot start:", err)
		runtime.Fail(err, opts)
		return
	}
	opts.Banner = banner
	// runtime.Main exits the process: 0 after a clean shutdown.
	runtime.Main(p, opts)
}

// logLevel reads IDV_LOG_LEVEL strictly: a value that is not a level (say
// "verbose") is a configuration error at start, not a silent info.
func logLevel(getenv func(string) string) (slog.Level, error) {
	l, err := logging.LevelFromEnv(getenv(logging.LevelVar))
	if err != nil {
		return l, errs.Configure(err, logging.LevelVar)
	}
	return l, nil
}

// SecretVars are the variables that hold secrets: in production they must
// be references. Provider packages add theirs here at init.
var SecretVars = append([]string{"IDV_REDIS_URL"}, secrets.DefaultSecretVars...)

// NewEnv resolves secret references in environ (failing closed) and
// connects the shared store.
func NewEnv(ctx context.Context, getenv func(string) string, environ []string, log *slog.Logger) (*Env, error) {
	production := strings.EqualFold(getenv("IDV_ENV"), "production")
	senv, err := secrets.Load(ctx, secrets.Options{
		Environ: environ, Getenv: getenv, Secret: SecretVars, Production: production, Logger: log,
	})
	if err != nil {
		return nil, secretsFailure(err)
	}
	env := &Env{Getenv: senv.Getenv, Log: log, Production: production}
	if env.Redis, err = redisFrom(ctx, env.Getenv(redisURLVar)); err != nil {
		return nil, err
	}
	return env, nil
}

const (
	redisURLVar          = "IDV_REDIS_URL"
	codeSecretUnresolved = "SecretUnresolved"
)

// secretsFailure classifies a failed secrets.Load. Its text names each
// variable, the reference kind and the class, never a value, so it is the
// message; Field lists the variables. A backend that did not answer in time
// or could not be reached is Unavailable (a later start may succeed);
// anything else (not found, access denied, malformed, a plain value in
// production, a bad setting) is a configuration error.
func secretsFailure(err error) *errs.Error {
	list := secretErrors(err)
	msg := err.Error()
	vars := make([]string, 0, len(list))
	for _, e := range list {
		if e.Var != "" {
			vars = append(vars, e.Var)
		}
	}
	if len(list) > 1 {
		parts := make([]string, len(list))
		for i, e := range list {
			parts[i] = e.Error()
		}
		msg = fmt.Sprintf("%d secrets could not be resolved: %s", len(list), strings.Join(parts, "; "))
	}
	e := errs.Wrap(err, secretKind(err), codeSecretUnresolved, "%s", msg)
	e.Field = strings.Join(vars, ",")
	return e
}

// secretErrors are the per-variable failures in err.
func secretErrors(err error) []*secrets.Error {
	var le *secrets.LoadError
	if errors.As(err, &le) {
		return le.Errors
	}
	var se *secrets.Error
	if errors.As(err, &se) {
		return []*secrets.Error{se}
	}
	return nil
}

// secretKind is errs.Unavailable when every secret in err failed for want
// of an answer (timeout, network, throttling), errs.Config otherwise.
func secretKind(err error) errs.Kind {
	list := secretErrors(err)
	if len(list) == 0 {
		return errs.Config
	}
	for _, e := range list {
		if e.Class != secrets.Timeout && e.Class != secrets.Unavailable {
			return errs.Config
		}
	}
	return errs.Unavailable
}

// redisFrom connects to the store named by url (redis:// or rediss://) and
// checks it answers, so a wrong address fails at start, not at the first
// paying request.
func redisFrom(ctx context.Context, url string) (*resp.Client, error) {
	if strings.TrimSpace(url) == "" {
		return nil, nil
	}
	o, err := resp.ParseURL(url)
	if err != nil {
		// The URL may carry a password: never echo it.
		e := errs.Configf(redisURLVar, "IDV_REDIS_URL is not a redis:// or rediss:// URL ([user:password@]host[:port][/db], no query parameters)")
		e.Code = "InvalidRedisURL"
		return nil, e
	}
	// Fail fast: every request waits on the store (rate limits,
	// idempotency), and a store that is down is handled by falling back or
	// refusing, not by a long retry schedule.
	o.MaxRetries, o.DialTimeout = 1, time.Second
	o.ReadTimeout, o.WriteTimeout = time.Second, time.Second
	c := resp.NewClient(o)
	pctx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		e := errs.E(errs.Unavailable, "RedisUnavailable", "IDV_REDIS_URL: the store at %s does not answer: %s", o.Addr, redactErr(err))
		e.Field = redisURLVar
		return nil, e
	}
	return c, nil
}

const redisPingTimeout = 3e9 // 3s: a store that slow would fail every request anyway

// redactErr keeps a connection error's class without anything that could
// carry the URL's password.
func redactErr(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return "network error"
	}
	if strings.Contains(err.Error(), "NOAUTH") || strings.Contains(err.Error(), "WRONGPASS") {
		return "authentication failed"
	}
	return "no answer"
}
