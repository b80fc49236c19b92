package jsonshape

import (
	"math"
	"unicode/utf8"
)

// Members calls fn with the name (unescaped) and the value (as it stands in
// obj, not copied) of each member of the JSON object obj, in order, until
// fn returns false. It reports whether obj is one well-formed JSON object,
// surrounding whitespace allowed; when fn stops early, whether the part
// read so far was. Only syntax is checked, as encoding/json checks it
// (nesting up to its 10000 levels, any number of values, no UTF-8 check):
// it reads answers from a provider, not requests, in one pass and without
// allocating.
func Members(obj []byte, fn func(name, value []byte) bool) bool {
	w := walker{data: obj, lim: Limits{MaxDepth: 10000, MaxValues: math.MaxInt}, dupsOK: true}
	w.skipSpace()
	if w.pos >= len(w.data) || w.data[w.pos] != '{' {
		return false
	}
	w.pos++
	w.skipSpace()
	if w.pos < len(w.data) && w.data[w.pos] == '}' {
		w.pos++
		return w.end()
	}
	for {
		if w.pos >= len(w.data) || w.data[w.pos] != '"' {
			return false
		}
		start := w.pos
		esc, err := w.str()
		if err != nil {
			return false
		}
		name := w.data[start+1 : w.pos-1]
		if esc || !utf8.Valid(name) { // as encoding/json reads it
			name = unescape(w.data[start:w.pos])
		}
		w.skipSpace()
		if w.pos >= len(w.data) || w.data[w.pos] != ':' {
			return false
		}
		w.pos++
		w.skipSpace()
		vstart := w.pos
		if w.value(nil, 1) != nil {
			return false
		}
		if !fn(name, w.data[vstart:w.pos]) {
			return true
		}
		w.skipSpace()
		if w.pos >= len(w.data) {
			return false
		}
		switch w.data[w.pos] {
		case ',':
			w.pos++
			w.skipSpace()
		case '}':
			w.pos++
			return w.end()
		default:
			return false
		}
	}
}

// end reports whether only whitespace follows.
func (w *walker) end() bool {
	w.skipSpace()
	return w.pos == len(w.data)
}

// Member is the value of the last member named name (exactly) of the JSON
// object obj, as decoding obj into a map would keep it; ok is false when
// there is none or obj is not a well-formed JSON object.
func Member(obj []byte, name string) (value []byte, ok bool) {
	if !Members(obj, func(n, v []byte) bool {
		if string(n) == name {
			value = v
		}
		return true
	}) {
		return nil, false
	}
	return value, value != nil
}
