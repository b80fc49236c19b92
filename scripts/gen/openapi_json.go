package main

import (
	"bytes"
	"encoding/json"
)

// obj is a JSON object that keeps its members in the order they were set,
// so the generated OpenAPI document reads top-down (openapi, info, paths...)
// and is byte-for-byte stable for `gen -check`.
type obj struct {
	keys []string
	vals map[string]any
}

// o builds an obj from key, value pairs; a nil value leaves the key out.
func o(kv ...any) *obj {
	m := &obj{vals: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		m.set(kv[i].(string), kv[i+1])
	}
	return m
}

// set adds or replaces a member; nil, "" and nil lists are left out.
func (m *obj) set(k string, v any) *obj {
	switch x := v.(type) {
	case nil:
		return m
	case string:
		if x == "" {
			return m
		}
	case []any:
		if x == nil { // an empty, non-nil list is kept: security: []
			return m
		}
	case *obj:
		if x == nil {
			return m
		}
	}
	if _, ok := m.vals[k]; !ok {
		m.keys = append(m.keys, k)
	}
	m.vals[k] = v
	return m
}

func (m *obj) get(k string) any { return m.vals[k] }

func (m *obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range m.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, err := marshalNoEscape(k)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		vb, err := marshalNoEscape(m.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalNoEscape is json.Marshal without HTML escaping (the document is
// JSON, and "<token>" reads better than "\u003ctoken\u003e").
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// indentJSON renders v indented by two spaces, with a final newline.
// Objects and arrays built here are laid out one member a line; a
// json.RawMessage (an example's request or answer) stays on one line, so
// the document reads and diffs by member without every example's bytes
// spread over dozens of lines.
func indentJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeIndented(&b, v, 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func writeIndented(b *bytes.Buffer, v any, depth int) error {
	pad := func(d int) {
		b.WriteByte('\n')
		for i := 0; i < d; i++ {
			b.WriteString("  ")
		}
	}
	switch x := v.(type) {
	case *obj:
		if len(x.keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, k := range x.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			pad(depth + 1)
			kb, _ := marshalNoEscape(k)
			b.Write(kb)
			b.WriteString(": ")
			if err := writeIndented(b, x.vals[k], depth+1); err != nil {
				return err
			}
		}
		pad(depth)
		b.WriteByte('}')
		return nil
	case []any:
		if len(x) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			pad(depth + 1)
			if err := writeIndented(b, e, depth+1); err != nil {
				return err
			}
		}
		pad(depth)
		b.WriteByte(']')
		return nil
	}
	raw, err := marshalNoEscape(v)
	if err != nil {
		return err
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return err
	}
	b.Write(c.Bytes())
	return nil
}
