package jsonshape

import (
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

// shape is what the walker needs of a model type. A nil *shape accepts any
// value with any member names: json.RawMessage, interfaces, Unmarshalers,
// and scalar fields (whose type mismatch the full decode reports).
type shape struct {
	fields map[string]*shape // a struct's members; non-nil for every struct
	items  *shape            // a slice's or array's elements
	values *shape            // a map's values
}

// suggest is the member whose name differs from key only in case.
func (s *shape) suggest(key string) string {
	for f := range s.fields {
		if strings.EqualFold(f, key) {
			return f
		}
	}
	return ""
}

var (
	shapes  sync.Map   // reflect.Type -> *shape (or nil for free types)
	buildMu sync.Mutex // serialises building, so that recursive types resolve
)

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

func shapeOf(t reflect.Type) *shape {
	if t == nil {
		return nil
	}
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	b := builder{done: map[reflect.Type]*shape{}}
	s := b.build(t)
	for t, s := range b.done {
		shapes.Store(t, s)
	}
	return s
}

type builder struct {
	done map[reflect.Type]*shape
}

func (b *builder) build(t reflect.Type) *shape {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := shapes.Load(t); ok {
		return s.(*shape)
	}
	if s, ok := b.done[t]; ok {
		return s
	}
	if t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
		b.done[t] = nil
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &shape{fields: map[string]*shape{}}
		b.done[t] = s // before the fields: a field may be of type t
		b.fields(s, t, 0, map[string]int{}, map[reflect.Type]bool{})
		return s
	case reflect.Slice, reflect.Array, reflect.Map:
		// A map takes any member names (whether they parse as its key
		// type is the full decode's business).
		s := &shape{}
		b.done[t] = s
		if t.Kind() == reflect.Map {
			s.values = b.build(t.Elem())
		} else {
			s.items = b.build(t.Elem())
		}
		return s
	}
	b.done[t] = nil
	return nil
}

// fields adds the JSON members of struct t, the way encoding/json names
// them: the json tag's name or the Go name, "-" skipped, the fields of an
// untagged embedded struct promoted, a shallower field winning over a
// deeper one of the same name.
func (b *builder) fields(s *shape, t reflect.Type, level int, depth map[string]int, visiting map[reflect.Type]bool) {
	if visiting[t] {
		return
	}
	visiting[t] = true
	defer delete(visiting, t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				if !f.IsExported() && f.Type.Kind() == reflect.Pointer {
					continue // encoding/json cannot set through it
				}
				b.fields(s, et, level+1, depth, visiting)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if d, ok := depth[name]; ok && d <= level {
			continue
		}
		depth[name] = level
		s.fields[name] = b.build(f.Type)
	}
}
