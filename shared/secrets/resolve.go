package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"
)

// DefaultConcurrency bounds how many backend calls run at once at cold
// start: enough to overlap every reference of a typical function, few enough
// not to trip a KMS request quota when hundreds of instances start together.
const DefaultConcurrency = 8

// source is one backend call, shared by every variable whose reference
// differs only in the JSON key.
type source struct {
	ref     Ref      // JSONKey cleared
	keys    []string // JSON keys needed ("" for the whole value), sorted
	members []member // the variables it serves, sorted by name

	mu       sync.Mutex
	values   map[string]string // by JSON key
	fetched  time.Time
	nextTry  time.Time
	inflight chan struct{} // closed when the running refresh ends
	lastErr  *Error
}

// member is one variable served by a source.
type member struct{ name, key string }

// variable is one environment variable holding a reference.
type variable struct {
	name string
	src  *source
	key  string
}

// names lists the variables s serves, for logs.
func (s *source) names() []string {
	out := make([]string, len(s.members))
	for i, m := range s.members {
		out[i] = m.name
	}
	return out
}

// plan groups the references among vars into sources. Variables whose
// reference does not parse get an error instead.
func plan(vars map[string]string) (map[string]*variable, []*source, map[string]*Error) {
	out := map[string]*variable{}
	bad := map[string]*Error{}
	byText := map[string]*source{}
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		raw := vars[name]
		if !IsRef(raw) {
			continue
		}
		ref, err := ParseRef(raw)
		if err != nil {
			e := *err.(*Error)
			e.Var = name
			bad[name] = &e
			continue
		}
		key := ref.JSONKey
		ref.JSONKey = ""
		text := ref.source()
		s := byText[text]
		if s == nil {
			s = &source{ref: ref}
			byText[text] = s
		}
		if !slices.Contains(s.keys, key) {
			s.keys = append(s.keys, key)
			slices.Sort(s.keys)
		}
		s.members = append(s.members, member{name: name, key: key})
		out[name] = &variable{name: name, src: s, key: key}
	}
	srcs := slices.Collect(maps.Values(byText))
	sort.Slice(srcs, func(i, j int) bool { return srcs[i].members[0].name < srcs[j].members[0].name })
	return out, srcs, bad
}

// load fetches s once and extracts every key it needs. err is for the whole
// source; keyErrs for single keys (a field missing from the JSON).
func (s *source) load(ctx context.Context, r *Resolver) (values map[string]string, keyErrs map[string]*Error, err *Error) {
	raw, ferr := r.Fetch(ctx, s.ref)
	if ferr != nil {
		return nil, nil, ferr.(*Error)
	}
	values = make(map[string]string, len(s.keys))
	for _, k := range s.keys {
		if k == "" {
			values[k] = string(raw)
			continue
		}
		v, kerr := jsonField(raw, k)
		if kerr != nil {
			if keyErrs == nil {
				keyErrs = map[string]*Error{}
			}
			kerr.Scheme = s.ref.Scheme
			keyErrs[k] = kerr
			continue
		}
		values[k] = v
	}
	return values, keyErrs, nil
}

// jsonField extracts one field of a JSON object. Errors never quote the
// secret: encoding/json's syntax errors do ("invalid character 'x'"), so
// they are replaced, not wrapped.
func jsonField(raw []byte, key string) (string, *Error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var obj map[string]json.RawMessage
	if err := d.Decode(&obj); err != nil || obj == nil {
		return "", Fail(Malformed, "", "the secret is not a JSON object, so #%s cannot select a field", key)
	}
	f, ok := obj[key]
	if !ok {
		return "", Fail(NotFound, "", "the secret has no field %q", key)
	}
	var v any
	d = json.NewDecoder(bytes.NewReader(f))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "", Fail(Malformed, "", "field %q is not valid JSON", key)
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "true", nil
		}
		return "false", nil
	default:
		return "", Fail(Malformed, "", "field %q is not a string, number or boolean", key)
	}
}

// loadAll runs every source's first load concurrently, at most n at once,
// and stores the values in the sources. It returns the error of each
// variable left without a value; ctx carries the overall bound.
// bound, when known, is named in timeout messages so the operator knows
// which setting to raise.
func loadAll(ctx context.Context, r *Resolver, srcs []*source, n int, now func() time.Time, bound time.Duration) map[string]*Error {
	if n <= 0 {
		n = DefaultConcurrency
	}
	sem := make(chan struct{}, n)
	var mu sync.Mutex
	bad := map[string]*Error{}
	record := func(s *source, keyErrs map[string]*Error, all *Error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range s.members {
			e := all
			if e == nil {
				e = keyErrs[m.key]
			}
			if e != nil {
				c := *e
				c.Var = m.name
				if c.Class == Timeout && bound > 0 {
					c.Detail = fmt.Sprintf("no answer within %s (IDV_SECRET_TIMEOUT)", bound)
				}
				bad[m.name] = &c
			}
		}
	}
	var wg sync.WaitGroup
	for _, s := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				record(s, nil, classify(ctx, "", s.ref.Scheme, ctx.Err()))
				return
			}
			values, keyErrs, err := s.load(ctx, r)
			if err != nil {
				record(s, nil, err)
				return
			}
			s.mu.Lock()
			s.values, s.fetched = values, now()
			s.mu.Unlock()
			record(s, keyErrs, nil)
		}()
	}
	wg.Wait()
	return bad
}
