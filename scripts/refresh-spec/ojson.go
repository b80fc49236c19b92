package main

// An order-preserving JSON value model and a writer that reproduces the
// spec file's existing formatting (Python json.dumps(ensure_ascii=False,
// indent=1) style: raw UTF-8, "key": value, one element per line, "[]"/"{}"
// for empty containers). encoding/json cannot be used for output: it sorts
// map keys, escapes <, >, & and U+2028, and would reorder the hand-curated
// keys of the spec, which would make every refresh a whole-file diff.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// object is a JSON object that remembers the order of its keys.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// set replaces the value of an existing key in place (keeping its position)
// or appends a new key at the end.
func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) del(k string) {
	if _, ok := o.vals[k]; !ok {
		return
	}
	delete(o.vals, k)
	for i, kk := range o.keys {
		if kk == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

func (o *object) str(k string) string {
	s, _ := o.vals[k].(string)
	return s
}

func (o *object) obj(k string) *object {
	v, _ := o.vals[k].(*object)
	return v
}

func (o *object) arr(k string) []any {
	v, _ := o.vals[k].([]any)
	return v
}

// decodeOrdered parses JSON into *object, []any, string, json.Number, bool
// and nil. Numbers stay json.Number so their literal text survives a
// round trip unchanged.
func decodeOrdered(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the top-level JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := newObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				if _, dup := o.vals[k]; dup {
					return nil, fmt.Errorf("duplicate key %q", k)
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.set(k, v)
			}
			_, err := dec.Token() // '}'
			return o, err
		case '[':
			a := []any{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token() // ']'
			return a, err
		}
		return nil, fmt.Errorf("unexpected delimiter %v", t)
	default:
		return t, nil
	}
}

// format describes the layout of an existing spec file so that output can
// match it byte for byte.
type format struct {
	indent       string // one nesting level
	finalNewline bool
}

// detectFormat reads the indent unit from the first indented line and
// whether the file ends with a newline. The current spec uses one space and
// no final newline.
func detectFormat(data []byte) format {
	f := format{indent: " "}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		n := len(line) - len(strings.TrimLeft(line, " \t"))
		if n > 0 {
			f.indent = line[:n]
			break
		}
	}
	f.finalNewline = bytes.HasSuffix(data, []byte("\n"))
	return f
}

func encode(v any, f format) []byte {
	var b bytes.Buffer
	writeValue(&b, v, f, 0)
	if f.finalNewline {
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func writeValue(b *bytes.Buffer, v any, f format, depth int) {
	switch t := v.(type) {
	case *object:
		if len(t.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range t.keys {
			b.WriteString(strings.Repeat(f.indent, depth+1))
			writeString(b, k)
			b.WriteString(": ")
			writeValue(b, t.vals[k], f, depth+1)
			if i < len(t.keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat(f.indent, depth))
		b.WriteByte('}')
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, e := range t {
			b.WriteString(strings.Repeat(f.indent, depth+1))
			writeValue(b, e, f, depth+1)
			if i < len(t)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(strings.Repeat(f.indent, depth))
		b.WriteByte(']')
	case []string: // convenience for values built by the merge
		a := make([]any, len(t))
		for i, s := range t {
			a[i] = s
		}
		writeValue(b, a, f, depth)
	case string:
		writeString(b, t)
	case json.Number:
		b.WriteString(t.String())
	case int:
		fmt.Fprintf(b, "%d", t)
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case nil:
		b.WriteString("null")
	default:
		panic(fmt.Sprintf("refresh-spec: cannot encode %T", v))
	}
}

// writeString escapes like Python's json with ensure_ascii=False: only the
// quote, the backslash and control characters are escaped; all other text,
// including CJK and U+2028, is written as raw UTF-8.
func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20:
			fmt.Fprintf(b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
