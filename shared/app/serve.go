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

	"github.com/redis/go-redis/v9"

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
	Redis redis.UniversalClient

	shared shared
}

// Built is what a function's wiring returns.
type Built struct {
	Handler gateway.Handler
	// Banner is printed when the local server starts.
	Banner string
}

// Builder wires one function from its Env.
type Builder func(ctx context.Context, env *Env) (*Built, error)

// Serve runs a function built by build and exits non-zero with a clear
// message when it cannot start. Every main in functions/ ends here.
func Serve(build Builder) {
	log := logging.New(os.Stderr, logging.ParseLevel(os.Getenv("IDV_LOG_LEVEL")))
	opts := runtime.Options{Logger: log}
	ctx := context.Background()
	env, err := NewEnv(ctx, os.Getenv, os.Environ(), log)
	var b *Built
	if err == nil {
		b, err = build(ctx, env)
	}
	if err != nil {
		// Fail closed, and tell the platform: on Lambda this is an init
		// error, on SCF a failed start.
		fmt.Fprintln(os.Stderr, "idverify: cannot start:", err)
		runtime.Fail(err, opts)
		return
	}
	opts.Banner = b.Banner
	// runtime.Main exits the process: 0 after a clean shutdown.
	runtime.Main(b.Handler, opts)
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
		return nil, errs.Wrap(err, errs.Internal, "SecretUnresolved", "%s", err.Error())
	}
	env := &Env{Getenv: senv.Getenv, Log: log, Production: production}
	if env.Redis, err = redisFrom(ctx, env.Getenv("IDV_REDIS_URL")); err != nil {
		return nil, err
	}
	return env, nil
}

// redisFrom connects to the store named by url (redis:// or rediss://) and
// checks it answers, so a wrong address fails at start, not at the first
// paying request.
func redisFrom(ctx context.Context, url string) (redis.UniversalClient, error) {
	if strings.TrimSpace(url) == "" {
		return nil, nil
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		// The URL may carry a password: never echo it.
		return nil, errs.E(errs.Internal, "InvalidRedisURL", "IDV_REDIS_URL is not a redis:// or rediss:// URL")
	}
	// Fail fast: every request waits on the store (rate limits,
	// idempotency), and a store that is down is handled by falling back or
	// refusing, not by go-redis's long default retry schedule.
	o.MaxRetries, o.DialTimeout = 1, time.Second
	o.ReadTimeout, o.WriteTimeout = time.Second, time.Second
	c := redis.NewClient(o)
	pctx, cancel := context.WithTimeout(ctx, redisPingTimeout)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, errs.E(errs.Unavailable, "RedisUnavailable", "IDV_REDIS_URL: the store at %s does not answer: %s", o.Addr, redactErr(err))
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
