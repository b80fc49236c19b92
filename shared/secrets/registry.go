package secrets

import (
	"context"
	"fmt"
	"sync"
)

// Backend fetches the bytes a reference names. Ref.JSONKey is handled by
// the caller; a backend returns the whole secret. Errors should be *Error
// (see Fail) so they carry a class; anything else counts as unavailable.
type Backend interface {
	Fetch(ctx context.Context, ref Ref) ([]byte, error)
}

// Encrypter is implemented by KMS backends, for the operator command.
type Encrypter interface {
	// Encrypt encrypts plaintext under keyID and returns the reference to
	// put into configuration (scheme, ciphertext, region and context).
	Encrypt(ctx context.Context, req EncryptRequest) (Ref, error)
}

// EncryptRequest is what Encrypt needs.
type EncryptRequest struct {
	KeyID     string // key id, ARN or alias
	Plaintext []byte
	Region    string            // "" for the platform default
	Context   map[string]string // encryption context, repeated in the reference
}

// Factory builds a backend. getenv reads the live environment (regions,
// endpoint overrides, role credentials that rotate); it is called lazily, on
// the first reference of one of the backend's schemes, so a binary with the
// AWS backend linked in pays nothing for it when no awsXXX reference is used.
type Factory func(getenv func(string) string) (Backend, error)

type registration struct {
	name    string
	schemes []string
	factory Factory
}

var (
	regMu    sync.RWMutex
	byScheme = map[string]*registration{}
)

// Register makes a backend available for schemes. Backend packages call it
// from init; importing shared/secrets/backends links them by build tag.
func Register(name string, schemes []string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	r := &registration{name: name, schemes: schemes, factory: f}
	for _, s := range schemes {
		if CloudOf(s) == "" {
			panic("secrets: Register: unknown scheme " + s)
		}
		if old, dup := byScheme[s]; dup {
			panic(fmt.Sprintf("secrets: scheme %s registered by both %s and %s", s, old.name, name))
		}
		byScheme[s] = r
	}
}

// Linked reports whether a backend for scheme is compiled into this binary.
func Linked(scheme string) bool {
	regMu.RLock()
	defer regMu.RUnlock()
	return byScheme[scheme] != nil
}

// notCompiled says which build left the backend out. Two causes look the
// same from here (a tag, or a main that never imported the backends
// package), so the message names both.
func notCompiled(scheme string) *Error {
	cloud := CloudOf(scheme)
	return &Error{Scheme: scheme, Class: NotCompiled, Detail: fmt.Sprintf(
		"the %s secrets backend is not in this binary: it was built with -tags idv_no_%s (rebuild without that tag), "+
			"or its main does not import github.com/idverify/idverify/shared/secrets/backends", cloud, cloud)}
}

// Resolver fetches references through the registered backends. Backends are
// built on first use and shared; a Resolver is safe for concurrent use.
type Resolver struct {
	getenv    func(string) string
	overrides map[string]Backend

	mu    sync.Mutex
	built map[*registration]*built
}

type built struct {
	once sync.Once
	b    Backend
	err  error
}

// NewResolver returns a resolver whose backends read their configuration
// through getenv (nil means no configuration at all).
func NewResolver(getenv func(string) string) *Resolver {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &Resolver{getenv: getenv, built: map[*registration]*built{}}
}

// WithBackend makes r use b for scheme instead of the registered backend.
// It is for tests and must be called before r is used.
func (r *Resolver) WithBackend(scheme string, b Backend) *Resolver {
	if r.overrides == nil {
		r.overrides = map[string]Backend{}
	}
	r.overrides[scheme] = b
	return r
}

func (r *Resolver) backend(scheme string) (Backend, error) {
	if b, ok := r.overrides[scheme]; ok {
		return b, nil
	}
	regMu.RLock()
	reg := byScheme[scheme]
	regMu.RUnlock()
	if reg == nil {
		return nil, notCompiled(scheme)
	}
	r.mu.Lock()
	bb := r.built[reg]
	if bb == nil {
		bb = &built{}
		r.built[reg] = bb
	}
	r.mu.Unlock()
	bb.once.Do(func() { bb.b, bb.err = reg.factory(r.getenv) })
	return bb.b, bb.err
}

// Fetch returns the whole secret ref names (JSONKey is not applied).
func (r *Resolver) Fetch(ctx context.Context, ref Ref) ([]byte, error) {
	b, err := r.backend(ref.Scheme)
	if err != nil {
		return nil, classify(ctx, "", ref.Scheme, err)
	}
	v, err := b.Fetch(ctx, ref)
	if err != nil {
		return nil, classify(ctx, "", ref.Scheme, err)
	}
	return v, nil
}

// Encrypter returns the encrypter for a KMS scheme (awskms or tckms).
func (r *Resolver) Encrypter(scheme string) (Encrypter, error) {
	b, err := r.backend(scheme)
	if err != nil {
		return nil, err
	}
	e, ok := b.(Encrypter)
	if !ok {
		return nil, &Error{Scheme: scheme, Class: Misconfigured, Detail: "this backend cannot encrypt"}
	}
	return e, nil
}
