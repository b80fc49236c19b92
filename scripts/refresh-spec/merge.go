package main

// Merging a parsed SDK package into the existing spec. The package is the
// source of truth for what it carries (actions, descriptions, fields, types,
// structs); everything else in the spec (gateway blocks, error tables,
// common_request, notes, unknown keys anywhere) was gathered by hand from
// docs and other SDKs and must survive a refresh untouched.

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Canonical key orders, as used by the current spec file. Keys not listed
// here (hand-added facts) keep their existing relative order after these.
var (
	actionKeys = []string{"action", "description", "deprecated", "request_struct", "request_is_empty", "request", "response", "nested_types", "deprecated_fields"}
	fieldKeys  = []string{"name", "type", "required", "description", "deprecated", "nullable"}
	structKeys = []string{"description", "deprecated", "fields"}
)

type report struct {
	Version        string
	ActionsAdded   []string
	ActionsRemoved []string
	ActionsChanged []string // "Action: what changed"
	StructsAdded   []string
	StructsRemoved []string
	StructsChanged []string
	FieldsAdded    []string // "Owner.Field (type)"
	FieldsRemoved  []string
	FieldsChanged  []string // "Owner.Field: what changed"
	Warnings       []string
}

func (r *report) removals() []string {
	var out []string
	for _, a := range r.ActionsRemoved {
		out = append(out, "action "+a)
	}
	for _, s := range r.StructsRemoved {
		out = append(out, "struct "+s)
	}
	for _, f := range r.FieldsRemoved {
		out = append(out, "field "+f)
	}
	return out
}

func (r *report) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// merge returns the refreshed spec; old is not modified.
func merge(old *object, p *sdkPackage) (*object, *report, error) {
	rep := &report{Version: p.Version}
	out := deepCopy(old).(*object)

	oldActions := map[string]*object{}
	for i, v := range old.arr("actions") {
		a, ok := v.(*object)
		if !ok || a.str("action") == "" {
			return nil, nil, fmt.Errorf("spec: actions[%d] is not an object with an \"action\" name", i)
		}
		oldActions[a.str("action")] = a
	}
	oldStructs := old.obj("structs")
	if oldStructs == nil {
		oldStructs = newObject()
	}

	isActionType := map[string]bool{}
	var actions []any
	for _, m := range p.Methods {
		isActionType[m.Request], isActionType[m.Response] = true, true
		prev := oldActions[m.Name]
		a := buildAction(m, p, prev, rep)
		if prev == nil {
			rep.ActionsAdded = append(rep.ActionsAdded, m.Name)
			rep.warnf("new action %s: gateway block is empty; add default_rate_limit_qps (+source), billing result codes, size_limits, encryption and possible_error_codes before running scripts/generate.sh", m.Name)
		}
		actions = append(actions, a)
	}
	for name := range oldActions {
		if !containsMethod(p.Methods, name) {
			rep.ActionsRemoved = append(rep.ActionsRemoved, name)
		}
	}

	structNames := []string{}
	for name := range p.Types {
		if !isActionType[name] {
			structNames = append(structNames, name)
		}
	}
	sort.Strings(structNames)
	structs := newObject()
	for _, name := range structNames {
		t := p.Types[name]
		if t.IsNull {
			return nil, nil, fmt.Errorf("%s = null is not a request of any action", name)
		}
		if strings.HasSuffix(name, "Request") || strings.HasSuffix(name, "Response") {
			rep.warnf("%s looks like a request/response type but no client method uses it; kept as a struct", name)
		}
		prev := oldStructs.obj(name)
		s := buildStruct(t, prev, rep)
		if prev == nil {
			rep.StructsAdded = append(rep.StructsAdded, name)
		}
		structs.set(name, s)
	}
	for _, name := range oldStructs.keys {
		if p.Types[name] == nil || isActionType[name] {
			rep.StructsRemoved = append(rep.StructsRemoved, name)
		}
	}

	out.set("actions", actions)
	out.set("structs", structs)
	out.set("action_count", json.Number(fmt.Sprint(len(actions))))
	updateSource(out, p.Version, rep)
	sort.Strings(rep.ActionsRemoved)
	return out, rep, nil
}

func containsMethod(ms []method, name string) bool {
	for _, m := range ms {
		if m.Name == name {
			return true
		}
	}
	return false
}

func buildAction(m method, p *sdkPackage, prev *object, rep *report) *object {
	req, resp := p.Types[m.Request], p.Types[m.Response]
	a := newObject()
	a.set("action", m.Name)
	a.set("description", m.Description)
	if m.Deprecated {
		a.set("deprecated", true)
	}
	a.set("request_struct", m.Request)
	a.set("request_is_empty", req.IsNull)
	a.set("request", buildFields(m.Name+".request", req.Fields, prev.arr0("request"), rep))
	a.set("response", buildFields(m.Name+".response", resp.Fields, prev.arr0("response"), rep))

	// nested_types: model structs referenced directly by the action's own
	// fields (not transitively), matching how the spec was first built.
	nested := map[string]bool{}
	var deprecated []string
	for _, t := range []*iface{req, resp} {
		for _, f := range t.Fields {
			for _, ref := range typeRefs(f.Type) {
				nested[ref] = true
			}
			if f.Deprecated {
				deprecated = append(deprecated, t.Name+"."+f.Name)
			}
		}
	}
	nestedList := make([]string, 0, len(nested))
	for n := range nested {
		nestedList = append(nestedList, n)
	}
	sort.Strings(nestedList)
	a.set("nested_types", toAny(nestedList))
	a.set("deprecated_fields", toAny(deprecated))

	if prev == nil {
		a.set("gateway", newObject())
		return a
	}
	for _, k := range []string{"description", "deprecated", "request_struct", "request_is_empty", "nested_types", "deprecated_fields"} {
		ov, _ := prev.get(k)
		nv, _ := a.get(k)
		if !jsonEqual(ov, nv) {
			rep.ActionsChanged = append(rep.ActionsChanged, fmt.Sprintf("%s: %s %s", m.Name, k, change(ov, nv)))
		}
	}
	carryExtraKeys(a, prev, actionKeys)
	checkGateway(m.Name, a, rep)
	return a
}

func buildStruct(t *iface, prev *object, rep *report) *object {
	s := newObject()
	s.set("description", t.Description)
	if t.Deprecated {
		s.set("deprecated", true)
	}
	s.set("fields", buildFields(t.Name, t.Fields, prev.arr0("fields"), rep))
	if prev != nil {
		for _, k := range []string{"description", "deprecated"} {
			ov, _ := prev.get(k)
			nv, _ := s.get(k)
			if !jsonEqual(ov, nv) {
				rep.StructsChanged = append(rep.StructsChanged, fmt.Sprintf("%s: %s %s", t.Name, k, change(ov, nv)))
			}
		}
		carryExtraKeys(s, prev, structKeys)
	}
	return s
}

// buildFields renders fields in package order. Per-field keys added by
// hand are carried over from the field of the same name.
func buildFields(owner string, fs []field, prev []any, rep *report) []any {
	prevByName := map[string]*object{}
	for _, v := range prev {
		if o, ok := v.(*object); ok {
			prevByName[o.str("name")] = o
		}
	}
	seen := map[string]bool{}
	out := []any{}
	for _, f := range fs {
		seen[f.Name] = true
		o := newObject()
		o.set("name", f.Name)
		o.set("type", f.Type)
		o.set("required", f.Required)
		o.set("description", f.Description)
		if f.Deprecated {
			o.set("deprecated", true)
		}
		if f.Nullable {
			o.set("nullable", true)
		}
		p := prevByName[f.Name]
		if p == nil {
			rep.FieldsAdded = append(rep.FieldsAdded, fmt.Sprintf("%s.%s (%s)", owner, f.Name, f.Type))
		} else {
			var diffs []string
			for _, k := range fieldKeys[1:] {
				ov, _ := p.get(k)
				nv, _ := o.get(k)
				if !jsonEqual(ov, nv) {
					diffs = append(diffs, k+" "+change(ov, nv))
				}
			}
			if len(diffs) > 0 {
				rep.FieldsChanged = append(rep.FieldsChanged, fmt.Sprintf("%s.%s: %s", owner, f.Name, strings.Join(diffs, "; ")))
			}
			carryExtraKeys(o, p, fieldKeys)
		}
		out = append(out, o)
	}
	for _, v := range prev {
		if o, ok := v.(*object); ok && !seen[o.str("name")] {
			rep.FieldsRemoved = append(rep.FieldsRemoved, owner+"."+o.str("name"))
		}
	}
	// Field order is part of the package's API docs; report pure moves so a
	// reviewer is not surprised by a diff with no listed change.
	sameSet := len(prevByName) == len(out) && len(prev) == len(out)
	for _, f := range fs {
		sameSet = sameSet && prevByName[f.Name] != nil
	}
	if sameSet {
		for i := range out {
			if prev[i].(*object).str("name") != out[i].(*object).str("name") {
				rep.FieldsChanged = append(rep.FieldsChanged, owner+": field order changed")
				break
			}
		}
	}
	return out
}

// carryExtraKeys appends keys of prev that the package does not own, in
// their existing order.
func carryExtraKeys(dst, prev *object, owned []string) {
	own := map[string]bool{}
	for _, k := range owned {
		own[k] = true
	}
	for _, k := range prev.keys {
		if !own[k] {
			dst.set(k, deepCopy(prev.vals[k]))
		}
	}
}

// checkGateway flags hand-gathered gateway facts that quote or name package
// fields which have since changed, because those facts are kept verbatim.
func checkGateway(action string, a *object, rep *report) {
	g := a.obj("gateway")
	if g == nil {
		return
	}
	fieldsOf := func(k string) map[string]*object {
		m := map[string]*object{}
		for _, v := range a.arr(k) {
			o := v.(*object)
			m[o.str("name")] = o
		}
		return m
	}
	req, resp := fieldsOf("request"), fieldsOf("response")
	if b := g.obj("billing"); b != nil {
		for _, name := range strings.Split(b.str("field"), "/") {
			name = strings.TrimSpace(name)
			if name == "" || strings.Contains(name, ".") {
				continue // e.g. "Error.Code": not a response field
			}
			if resp[name] == nil {
				rep.warnf("%s: gateway.billing.field names %s, which is no longer in the response", action, name)
			}
		}
	}
	if e := g.obj("encryption"); e != nil {
		for _, side := range []struct {
			key    string
			fields map[string]*object
		}{{"request_fields", req}, {"response_fields", resp}} {
			for _, v := range e.arr(side.key) {
				if s, ok := v.(string); ok && side.fields[s] == nil {
					rep.warnf("%s: gateway.encryption.%s lists %s, which the package no longer has", action, side.key, s)
				}
			}
		}
	}
	for _, v := range g.arr("size_limits") {
		if o, ok := v.(*object); ok && o.str("field") != "" && req[o.str("field")] == nil && resp[o.str("field")] == nil {
			rep.warnf("%s: gateway.size_limits mentions %s, which the package no longer has", action, o.str("field"))
		}
	}
}

// checkQuotedText compares texts the spec quotes verbatim from model
// comments (billing.raw, size_limits[].text) with the package's current
// comments; a mismatch means the charged/free lists or limits may be stale.
func checkQuotedText(out *object, p *sdkPackage, rep *report) {
	for _, v := range out.arr("actions") {
		a := v.(*object)
		name := a.str("action")
		g := a.obj("gateway")
		if g == nil {
			continue
		}
		full := func(typ, fieldName string) (string, bool) {
			t := p.Types[typ]
			if t == nil {
				return "", false
			}
			for _, f := range t.Fields {
				if f.Name == fieldName {
					return f.FullText, true
				}
			}
			return "", false
		}
		if b := g.obj("billing"); b != nil && b.str("raw") != "" {
			if txt, ok := full(name+"Response", b.str("field")); ok && txt != b.str("raw") {
				rep.warnf("%s: the %s comment changed since gateway.billing.raw was taken; re-check the charged/free result codes", name, b.str("field"))
			}
		}
		for _, sv := range g.arr("size_limits") {
			sl, ok := sv.(*object)
			if !ok {
				continue
			}
			txt, ok := full(name+"Request", sl.str("field"))
			if !ok {
				txt, ok = full(name+"Response", sl.str("field"))
			}
			if ok && txt != sl.str("text") {
				rep.warnf("%s: the %s comment changed since gateway.size_limits was taken; re-check the size limit", name, sl.str("field"))
			}
		}
	}
}

var reSourceVersion = regexp.MustCompile(`^(tencentcloud-sdk-nodejs )([^:\s]+)(:)`)

// updateSource rewrites the package version in the "source" line and warns
// about notes that name the previous version.
func updateSource(out *object, version string, rep *report) {
	src := out.str("source")
	m := reSourceVersion.FindStringSubmatch(src)
	if m == nil {
		rep.warnf("top-level \"source\" does not start with \"tencentcloud-sdk-nodejs <version>:\"; left unchanged")
		return
	}
	oldVersion := m[2]
	if version == "" || version == oldVersion {
		return
	}
	out.set("source", reSourceVersion.ReplaceAllString(src, "${1}"+version+"${3}"))
	if notes := out.obj("notes"); notes != nil {
		for _, k := range notes.keys {
			if s, ok := notes.vals[k].(string); ok && strings.Contains(s, oldVersion) {
				rep.warnf("notes.%s mentions %s; review it by hand for %s", k, oldVersion, version)
			}
		}
	}
}

// arr0 is arr that tolerates a nil receiver (new actions/structs).
func (o *object) arr0(k string) []any {
	if o == nil {
		return nil
	}
	return o.arr(k)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case *object:
		o := newObject()
		for _, k := range t.keys {
			o.set(k, deepCopy(t.vals[k]))
		}
		return o
	case []any:
		a := make([]any, len(t))
		for i, e := range t {
			a[i] = deepCopy(e)
		}
		return a
	default:
		return v
	}
}

// jsonEqual compares two values by their canonical encoding; absent (nil
// from a failed lookup) equals false for booleans such as nullable, since
// the spec omits false flags.
func jsonEqual(a, b any) bool {
	if a == nil {
		a = false
	}
	if b == nil {
		b = false
	}
	f := format{indent: " "}
	return string(encode(a, f)) == string(encode(b, f))
}

// short renders a value for the summary, cut so long descriptions stay on
// one line.
func short(v any) string {
	if v == nil {
		return "(absent)"
	}
	s := strings.ReplaceAll(string(encode(v, format{indent: ""})), "\n", "")
	return trimRunes(s, 60)
}

// change renders old -> new for the summary. Long strings that share a
// prefix are shown from just before the first difference, so a one-word
// edit in a 200-character description is visible on one line.
func change(ov, nv any) string {
	oldS, ok1 := ov.(string)
	newS, ok2 := nv.(string)
	if !ok1 || !ok2 {
		return short(ov) + " -> " + short(nv)
	}
	o, n := []rune(oldS), []rune(newS)
	i := 0
	for i < len(o) && i < len(n) && o[i] == n[i] {
		i++
	}
	const context = 12
	if i <= context {
		return short(ov) + " -> " + short(nv)
	}
	start := i - context
	return short("…"+string(o[start:])) + " -> " + short("…"+string(n[start:]))
}
