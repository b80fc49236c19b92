package secrets

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"
)

// Defaults, each overridable by the environment variable named beside it.
const (
	DefaultTTL        = 15 * time.Minute // IDV_SECRET_TTL
	DefaultMaxAge     = 24 * time.Hour   // IDV_SECRET_MAX_AGE
	DefaultRetryAfter = 30 * time.Second // IDV_SECRET_RETRY
	// DefaultTimeout bounds the whole cold-start resolution and each
	// refresh. KMS answers in tens of milliseconds; 5s leaves room for SDK
	// retries while staying well inside Lambda's 10s init phase.
	DefaultTimeout = 5 * time.Second // IDV_SECRET_TIMEOUT
)

// DefaultSecretVars are the variables idverify itself knows to hold secrets:
// the FaceID SecretKey and the callers' keys. Pass them (plus any provider
// secrets a deployment adds) as Options.Secret.
var DefaultSecretVars = []string{"TENCENTCLOUD_SECRET_KEY", "IDV_CALLERS"}

// Options configures Load and Check. The zero value works: it reads the
// process environment.
type Options struct {
	// Environ is the environment to scan for references, as "NAME=value"
	// entries; nil means os.Environ(). Every variable whose value is a
	// reference is resolved, whatever its name, so a reference can never
	// reach the code that reads it as if it were the value.
	Environ []string
	// Getenv reads the live environment: variables that are not references,
	// and the backends' configuration (region, endpoint overrides, SCF role
	// credentials, which rotate and are therefore read at every refresh).
	// nil means os.Getenv.
	Getenv func(string) string
	// Secret names the variables that hold provider or caller secrets. In
	// production a non-empty plain value in one of them stops the function.
	// IDV_SECRET_VARS (comma-separated) adds names without a code change.
	Secret []string
	// Production refuses plain secrets. It is also on when IDV_ENV=production.
	Production bool
	// TTL, MaxAge, RetryAfter and Timeout override the defaults and the
	// IDV_SECRET_* variables when positive.
	TTL, MaxAge, RetryAfter, Timeout time.Duration
	// Concurrency bounds parallel backend calls at cold start.
	Concurrency int
	// Logger receives variable names, reference kinds and error classes,
	// never values. nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock for TTLs; nil means time.Now. Tests use a fake.
	Now func() time.Time
	// Resolver replaces the default one (built from Getenv), for tests.
	Resolver *Resolver
}

// settings are Options with defaults and environment applied.
type settings struct {
	environ    map[string]string
	getenv     func(string) string
	secret     []string
	production bool
	ttl        time.Duration
	maxAge     time.Duration
	retry      time.Duration
	timeout    time.Duration
	conc       int
	log        *slog.Logger
	now        func() time.Time
	resolver   *Resolver
}

func (o Options) settings() (*settings, error) {
	s := &settings{getenv: o.Getenv, conc: o.Concurrency, log: o.Logger, now: o.Now, resolver: o.Resolver}
	if s.getenv == nil {
		s.getenv = os.Getenv
	}
	environ := o.Environ
	if environ == nil {
		environ = os.Environ()
	}
	s.environ = ParseEnviron(environ)
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.resolver == nil {
		s.resolver = NewResolver(s.getenv)
	}
	// Settings come from the environment being loaded, which is where the
	// function's configuration is; the live environment is the fallback.
	setting := func(k string) string {
		if v, ok := s.environ[k]; ok {
			return v
		}
		return s.getenv(k)
	}
	s.production = o.Production || strings.EqualFold(strings.TrimSpace(setting("IDV_ENV")), "production")
	s.secret = slices.Clone(o.Secret)
	for _, n := range strings.Split(setting("IDV_SECRET_VARS"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			s.secret = append(s.secret, n)
		}
	}
	slices.Sort(s.secret)
	s.secret = slices.Compact(s.secret)

	var err error
	if s.ttl, err = duration(o.TTL, setting, "IDV_SECRET_TTL", DefaultTTL); err != nil {
		return nil, err
	}
	if s.maxAge, err = duration(o.MaxAge, setting, "IDV_SECRET_MAX_AGE", DefaultMaxAge); err != nil {
		return nil, err
	}
	if s.retry, err = duration(o.RetryAfter, setting, "IDV_SECRET_RETRY", DefaultRetryAfter); err != nil {
		return nil, err
	}
	if s.timeout, err = duration(o.Timeout, setting, "IDV_SECRET_TIMEOUT", DefaultTimeout); err != nil {
		return nil, err
	}
	if s.maxAge < s.ttl {
		return nil, &Error{Var: "IDV_SECRET_MAX_AGE", Class: Misconfigured,
			Detail: fmt.Sprintf("%s is shorter than the TTL %s: values would expire before their first refresh", s.maxAge, s.ttl)}
	}
	return s, nil
}

func duration(explicit time.Duration, getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	if explicit > 0 {
		return explicit, nil
	}
	raw := strings.TrimSpace(getenv(name))
	if raw == "" {
		return def, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		return 0, &Error{Var: name, Class: Misconfigured, Detail: "want a positive Go duration such as 15m or 1h"}
	}
	return d, nil
}

// ParseEnviron turns "NAME=value" entries into a map; later entries win.
func ParseEnviron(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok && k != "" {
			m[k] = v
		}
	}
	return m
}

// Status is the outcome for one variable, as `idvsecrets check` prints it.
type Status struct {
	Var    string
	Scheme string // reference scheme; "" for a plain value
	Err    *Error // nil when resolved (or plain and allowed)
}

// Env serves configuration with references replaced by their values. Its
// Getenv is a drop-in for os.Getenv. It is safe for concurrent use.
type Env struct {
	s    *settings
	vars map[string]*variable
}

// Load resolves every reference in the environment, concurrently and within
// the timeout, and returns an Env serving the values. It fails closed: if
// any reference cannot be resolved, or production finds a plain secret, the
// error (a *LoadError) names every such variable and why.
func Load(ctx context.Context, opt Options) (*Env, error) {
	env, statuses, err := start(ctx, opt)
	if err != nil {
		return nil, err
	}
	var bad []*Error
	for _, st := range statuses {
		if st.Err != nil {
			bad = append(bad, st.Err)
		}
	}
	if len(bad) > 0 {
		for _, e := range bad {
			env.s.log.Error("secret unresolved", slog.String("var", e.Var), slog.String("ref_kind", kindOf(e.Scheme)),
				slog.String("class", string(e.Class)), slog.String("code", e.Code))
		}
		return nil, &LoadError{Errors: bad}
	}
	return env, nil
}

// Check resolves like Load but reports every variable instead of failing:
// references (ok or not), and plain values of the Secret variables. The
// error is only for unusable options.
func Check(ctx context.Context, opt Options) ([]Status, error) {
	_, statuses, err := start(ctx, opt)
	return statuses, err
}

func start(ctx context.Context, opt Options) (*Env, []Status, error) {
	s, err := opt.settings()
	if err != nil {
		return nil, nil, err
	}
	begin := time.Now()
	vars, srcs, bad := plan(s.environ)

	for _, name := range s.secret {
		raw := s.environ[name]
		if raw == "" || IsRef(raw) {
			continue
		}
		if s.production {
			bad[name] = &Error{Var: name, Class: Plaintext, Detail: "IDV_ENV=production requires a reference (" +
				strings.Join(Schemes(), ":, ") + ":) for this variable, not a plain value"}
		}
	}

	lctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	maps.Copy(bad, loadAll(lctx, s.resolver, srcs, s.conc, s.now, s.timeout))

	var statuses []Status
	names := slices.Collect(maps.Keys(vars))
	for name := range bad {
		if vars[name] == nil {
			names = append(names, name)
		}
	}
	for _, name := range s.secret {
		if s.environ[name] != "" && vars[name] == nil && bad[name] == nil {
			names = append(names, name) // a plain secret, allowed outside production
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		statuses = append(statuses, Status{Var: name, Scheme: SchemeOf(s.environ[name]), Err: bad[name]})
	}
	if len(srcs) > 0 {
		s.log.Info("secrets resolved", slog.Int("refs", len(vars)), slog.Int("calls", len(srcs)),
			slog.Int("failed", len(bad)), slog.Int64("elapsed_ms", time.Since(begin).Milliseconds()))
	}
	return &Env{s: s, vars: vars}, statuses, nil
}

// Getenv returns the value of key: the resolved value of a reference
// (refreshed after the TTL), otherwise the live environment's value. A
// reference whose value has expired reads as "", so a caller fails as if
// the variable were unset rather than using a value nobody can vouch for.
func (e *Env) Getenv(key string) string {
	v, _ := e.Lookup(key)
	return v
}

// Lookup is Getenv with the reason a reference has no value.
func (e *Env) Lookup(key string) (string, error) {
	v := e.vars[key]
	if v == nil {
		return e.s.getenv(key), nil
	}
	return e.value(v)
}

// References lists the variables that hold references, sorted.
func (e *Env) References() []string { return slices.Sorted(maps.Keys(e.vars)) }

// value serves a reference variable, refreshing it when stale. Only one
// caller per source refreshes; the others keep the previous value while it
// is within the maximum age, and wait for the refresh only when they have
// nothing usable.
func (e *Env) value(v *variable) (string, error) {
	s := v.src
	for {
		now := e.s.now()
		s.mu.Lock()
		age := now.Sub(s.fetched)
		if age < e.s.ttl {
			val := s.values[v.key]
			s.mu.Unlock()
			return val, nil
		}
		if s.inflight == nil && !now.Before(s.nextTry) {
			done := make(chan struct{})
			s.inflight = done
			s.mu.Unlock()
			e.refresh(s, done)
			continue
		}
		if age < e.s.maxAge {
			val := s.values[v.key]
			s.mu.Unlock()
			return val, nil
		}
		if done := s.inflight; done != nil {
			s.mu.Unlock()
			select {
			case <-done:
				continue
			case <-time.After(e.s.timeout):
			}
			s.mu.Lock()
		}
		err := &Error{Var: v.name, Scheme: s.ref.Scheme, Class: Expired,
			Detail: fmt.Sprintf("not refreshed for longer than the maximum age %s (IDV_SECRET_MAX_AGE)", e.s.maxAge)}
		if s.lastErr != nil {
			err.Code, err.RequestID = s.lastErr.Code, s.lastErr.RequestID
			err.Detail += "; last failure: " + string(s.lastErr.Class)
		}
		s.mu.Unlock()
		return "", err
	}
}

// refresh re-resolves s. On failure the previous values stay and the next
// attempt waits RetryAfter, so a KMS outage costs one slow request per
// interval, not one per request.
func (e *Env) refresh(s *source, done chan struct{}) {
	var (
		values  map[string]string
		keyErrs map[string]*Error
		err     *Error
	)
	defer func() {
		now := e.s.now()
		s.mu.Lock()
		if err == nil && len(keyErrs) == 0 && values != nil {
			changed := !maps.Equal(s.values, values)
			s.values, s.fetched, s.lastErr = values, now, nil
			s.inflight = nil
			s.mu.Unlock()
			close(done)
			e.s.log.Info("secret refreshed", slog.Any("vars", s.names()), slog.String("ref_kind", s.ref.Scheme),
				slog.Bool("changed", changed))
			return
		}
		if err == nil {
			for _, k := range s.keys {
				if keyErrs[k] != nil {
					err = keyErrs[k]
					break
				}
			}
		}
		if err == nil {
			err = &Error{Class: Unavailable, Detail: "refresh did not finish"}
		}
		s.lastErr, s.nextTry, s.inflight = err, now.Add(e.s.retry), nil
		age := now.Sub(s.fetched)
		s.mu.Unlock()
		close(done)
		level := slog.LevelWarn
		if age >= e.s.maxAge {
			level = slog.LevelError
		}
		e.s.log.Log(context.Background(), level, "secret refresh failed; keeping the previous value until the maximum age",
			slog.Any("vars", s.names()), slog.String("ref_kind", s.ref.Scheme), slog.String("class", string(err.Class)),
			slog.String("code", err.Code), slog.String("request_id", err.RequestID),
			slog.Duration("age", age), slog.Duration("max_age", e.s.maxAge))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), e.s.timeout)
	defer cancel()
	values, keyErrs, err = s.load(ctx, e.s.resolver)
}

// Resolve resolves the references among vars once, without caching, and
// returns vars with each reference replaced by its value; plain values pass
// through. ctx bounds the whole call. Every failure is in the *LoadError.
func (r *Resolver) Resolve(ctx context.Context, vars map[string]string) (map[string]string, error) {
	refs, srcs, bad := plan(vars)
	maps.Copy(bad, loadAll(ctx, r, srcs, DefaultConcurrency, time.Now, 0))
	if len(bad) > 0 {
		le := &LoadError{}
		for _, name := range slices.Sorted(maps.Keys(bad)) {
			le.Errors = append(le.Errors, bad[name])
		}
		return nil, le
	}
	out := maps.Clone(vars)
	for name, v := range refs {
		out[name] = v.src.values[v.key]
	}
	return out, nil
}

func kindOf(scheme string) string {
	if scheme == "" {
		return "plain"
	}
	return scheme
}

// discard is a logger for callers that want none.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// Discard returns a logger that drops everything, for Options.Logger.
func Discard() *slog.Logger { return discard }
