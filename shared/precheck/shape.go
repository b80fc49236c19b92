package precheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"

	"github.com/idverify/idverify/shared/errs"
)

// checkShape makes one streaming pass over params with json.Decoder.Token,
// walking the request model's type alongside. It refuses, before any model
// is allocated:
//   - nesting deeper than MaxDepth and more than MaxValues values;
//   - a key the model does not have, named with its path
//     ("Encryption.Ivv"), including a key that differs from a field only in
//     case: encoding/json would accept "idcard" for IdCard, but the body is
//     forwarded to Tencent as sent, so what is checked here must be what
//     Tencent reads;
//   - the same key twice in one object, for the same reason: encoding/json
//     keeps the last value, another parser may keep the first.
//
// Types of values are left to the full decode, which names the field.
func checkShape(model reflect.Type, params []byte) error {
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber() // a number's range is the full decode's business
	w := &walker{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return decodeError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errs.E(errs.Invalid, "InvalidParameter", "request body must be a JSON object")
	}
	w.values = 1
	if err := w.object(deref(model), "", 1); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errs.E(errs.Invalid, "InvalidParameter", "request body has data after the JSON object")
	}
	return nil
}

type walker struct {
	dec    *json.Decoder
	values int
}

// value reads one value whose model type is t (nil when unknown, as under a
// field of the wrong type); depth counts the containers around it.
func (w *walker) value(t reflect.Type, path string, depth int) error {
	tok, err := w.dec.Token()
	if err != nil {
		return decodeError(err)
	}
	if w.values++; w.values > MaxValues {
		return errs.E(errs.Invalid, "InvalidParameter", "request body has more than %d JSON values", MaxValues)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth+1 > MaxDepth {
		return errs.E(errs.Invalid, "InvalidParameter", "request body nests objects and arrays more than %d levels deep (at %s)", MaxDepth, quote(path))
	}
	t = deref(t)
	if d == '{' {
		return w.object(t, path, depth+1)
	}
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	for i := 0; w.dec.More(); i++ {
		if err := w.value(elem, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
			return err
		}
	}
	return w.end()
}

// object reads the members of an object after its '{'.
func (w *walker) object(t reflect.Type, path string, depth int) error {
	var fields map[string]reflect.Type
	if t != nil && t.Kind() == reflect.Struct {
		fields = jsonFields(t)
	}
	seen := map[string]bool{}
	for w.dec.More() {
		tok, err := w.dec.Token()
		if err != nil {
			return decodeError(err)
		}
		key, _ := tok.(string) // Token guarantees a string key inside an object
		name := join(path, key)
		if seen[key] {
			return errs.E(errs.Invalid, "InvalidParameter", "field %s appears more than once", quote(name))
		}
		seen[key] = true
		var ft reflect.Type
		if fields != nil {
			var known bool
			if ft, known = fields[key]; !known {
				return unknownField(fields, path, key)
			}
		}
		if err := w.value(ft, name, depth); err != nil {
			return err
		}
	}
	return w.end()
}

// end consumes the closing delimiter that More announced.
func (w *walker) end() error {
	if _, err := w.dec.Token(); err != nil {
		return decodeError(err)
	}
	return nil
}

func unknownField(fields map[string]reflect.Type, path, key string) error {
	for f := range fields {
		if strings.EqualFold(f, key) {
			return errs.E(errs.Invalid, "UnknownParameter", "unknown field %s: field names are case-sensitive, did you mean %s?",
				quote(join(path, key)), quote(join(path, f)))
		}
	}
	return errs.E(errs.Invalid, "UnknownParameter", "unknown field %s: this action does not take it", quote(join(path, key)))
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// quote bounds a caller-chosen name before it goes into a message.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var fieldCache sync.Map // reflect.Type -> map[string]reflect.Type

// jsonFields maps the exact JSON member names of a model struct to their
// types. Models are generated with a json tag on every field.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		m[name] = f.Type
	}
	fieldCache.Store(t, m)
	return m
}
