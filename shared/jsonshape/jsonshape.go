// Package jsonshape checks the shape of a JSON request body against the Go
// model it will be decoded into, in one streaming pass and before anything
// is allocated for it. It refuses what encoding/json would silently accept
// and another parser might read differently:
//
//   - a member the model does not have, including one that differs from a
//     field only in case (encoding/json matches "idcard" to IdCard; the
//     provider that receives the body as sent does not);
//   - the same member twice in one object (encoding/json keeps the last
//     value, other parsers the first);
//   - invalid UTF-8 (encoding/json replaces it with U+FFFD);
//   - anything after the top-level object;
//
// and bounds what a hostile body can cost: nesting depth and the number of
// values. Types of values are not checked: that is the full decode's
// business, which names the field.
//
// A json.RawMessage, interface or other json.Unmarshaler field takes any
// value; maps take any member names. Inside them duplicates, depth and the
// value count are still checked.
//
// Errors are *Error with a Kind and a path, so that each contract renders
// them in its own envelope and codes.
package jsonshape

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Default limits. No request of the contracts served here comes near them:
// the deepest nests 3 levels and the largest has a few dozen values.
const (
	DefaultMaxDepth  = 20   // nested objects and arrays, the body itself being level 1
	DefaultMaxValues = 1000 // objects, arrays, strings, numbers, booleans and nulls
)

// Limits bound a body's shape. A zero field means its default.
type Limits struct {
	MaxDepth  int
	MaxValues int
}

// Kind says what is wrong with a body.
type Kind uint8

const (
	InvalidUTF8   Kind = iota + 1 // the body is not valid UTF-8
	Truncated                     // the body ends inside a value (or is empty)
	Syntax                        // the body is not JSON; Offset says where
	NotObject                     // the body is a JSON value other than an object
	TrailingData                  // something follows the object
	TooDeep                       // nesting deeper than MaxDepth; Path is the container over the limit
	TooManyValues                 // more than MaxValues values
	DuplicateKey                  // a member appears twice in one object; Path names it
	UnknownField                  // a member the model does not have; Path names it
)

var kindNames = [...]string{
	InvalidUTF8:   "invalid UTF-8",
	Truncated:     "truncated JSON",
	Syntax:        "invalid JSON",
	NotObject:     "not a JSON object",
	TrailingData:  "data after the JSON object",
	TooDeep:       "nested too deep",
	TooManyValues: "too many values",
	DuplicateKey:  "duplicate member",
	UnknownField:  "unknown member",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is a refused body.
type Error struct {
	Kind Kind
	// Path locates a DuplicateKey, UnknownField or TooDeep: member names
	// as sent (unescaped) joined by "." and array indexes in brackets,
	// "Encryption.Ivv", "IntentionQuestions[1].Answer". Empty otherwise.
	// It is caller-chosen text: bound it before showing it.
	Path string
	// Key is the last member name of Path (DuplicateKey, UnknownField).
	Key string
	// Suggest is, for an UnknownField, the path of the model's field
	// whose name differs from Key only in case; empty when there is none.
	Suggest string
	// Offset counts the bytes read up to and including the offending one,
	// as encoding/json's SyntaxError.Offset does (for Truncated, the body's
	// length). It is set for every Kind.
	Offset int64
	// Limit is the limit exceeded (TooDeep, TooManyValues).
	Limit int

	// rev is the path to the refused value, innermost step first, as
	// the error unwinds; top renders it into Path and Suggest.
	rev     []seg
	suggest string // the suggested member name, before top adds the path
}

func (e *Error) Error() string {
	switch e.Kind {
	case Syntax:
		return fmt.Sprintf("jsonshape: invalid JSON at byte %d", e.Offset)
	case TooDeep:
		return fmt.Sprintf("jsonshape: nested more than %d levels deep at %q", e.Limit, e.Path)
	case TooManyValues:
		return fmt.Sprintf("jsonshape: more than %d values", e.Limit)
	case DuplicateKey, UnknownField:
		return fmt.Sprintf("jsonshape: %s %q", e.Kind, e.Path)
	}
	return "jsonshape: " + e.Kind.String()
}

// Check checks body against model (a struct type or a pointer to one; nil
// accepts any members) with the default limits. It returns nil or an *Error.
func Check(model reflect.Type, body []byte) error {
	return CheckLimits(model, body, Limits{})
}

// CheckLimits is Check with explicit limits.
func CheckLimits(model reflect.Type, body []byte, lim Limits) error {
	_, err := CheckStrings(model, body, lim, nil)
	return err
}

// Span is where the value of a top-level member lies in a body.
type Span struct {
	Name       string // the member's name (one of those asked for)
	Start, End int    // body[Start:End] is the value, a string literal with its quotes
}

// CheckStrings is CheckLimits that also says where the values of the
// top-level members named in names lie, for those whose value is a string,
// in the order they appear: a caller can then read a large value (a base64
// image) where it is instead of decoding a copy of it.
func CheckStrings(model reflect.Type, body []byte, lim Limits, names []string) ([]Span, error) {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultMaxDepth
	}
	if lim.MaxValues <= 0 {
		lim.MaxValues = DefaultMaxValues
	}
	if !utf8.Valid(body) {
		return nil, &Error{Kind: InvalidUTF8, Offset: int64(invalidUTF8At(body)) + 1}
	}
	w := walker{data: body, lim: lim, names: names}
	if err := w.top(shapeOf(model)); err != nil {
		err.finish()
		return nil, err
	}
	return w.spans, nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// seg is one step of the path to the current value: a member name (raw
// bytes between the quotes) or an array index.
type seg struct {
	key   []byte
	esc   bool // key holds escapes
	index int
}

// The walker keeps no path: an error collects it as it unwinds, so that
// an accepted body costs no allocation.
type walker struct {
	data   []byte
	pos    int
	values int
	lim    Limits
	names  []string // top-level members whose string values are located
	spans  []Span
	dupsOK bool // a name may appear twice in an object (Members)
}

// at adds a step to the path of an error unwinding through it.
func at(err *Error, s seg) *Error {
	if err != nil {
		switch err.Kind {
		case TooDeep, DuplicateKey, UnknownField:
			err.rev = append(err.rev, s)
		}
	}
	return err
}

// finish renders the collected path.
func (e *Error) finish() {
	var b strings.Builder
	for i := len(e.rev) - 1; i >= 0; i-- {
		s := e.rev[i]
		if s.key == nil {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(keyString(s.key, s.esc))
	}
	parent := b.String()
	e.rev = nil
	switch e.Kind {
	case TooDeep:
		e.Path = parent
	case DuplicateKey, UnknownField:
		e.Path = join(parent, e.Key)
		if e.suggest != "" {
			e.Suggest = join(parent, e.suggest)
		}
	}
}

func (w *walker) top(sh *shape) *Error {
	w.skipSpace()
	if w.pos >= len(w.data) {
		return w.truncated()
	}
	switch c := w.data[w.pos]; c {
	case '{':
		w.pos++
		w.values = 1
		if err := w.object(sh, 1); err != nil {
			return err
		}
	case '[':
		return &Error{Kind: NotObject, Offset: int64(w.pos) + 1}
	default:
		start := w.pos
		if err := w.scalar(); err != nil {
			return err
		}
		return &Error{Kind: NotObject, Offset: int64(start) + 1}
	}
	w.skipSpace()
	if w.pos < len(w.data) {
		return &Error{Kind: TrailingData, Offset: int64(w.pos) + 1}
	}
	return nil
}

// value reads one value whose model is sh; depth counts the containers
// around it.
func (w *walker) value(sh *shape, depth int) *Error {
	w.skipSpace()
	if w.pos >= len(w.data) {
		return w.truncated()
	}
	c := w.data[w.pos]
	if c != '{' && c != '[' {
		if err := w.scalar(); err != nil {
			return err
		}
		return w.count()
	}
	start := w.pos
	w.pos++
	if err := w.count(); err != nil {
		return err
	}
	if depth+1 > w.lim.MaxDepth {
		return &Error{Kind: TooDeep, Limit: w.lim.MaxDepth, Offset: int64(start) + 1}
	}
	if c == '{' {
		return w.object(sh, depth+1)
	}
	var items *shape
	if sh != nil {
		items = sh.items
	}
	return w.array(items, depth+1)
}

func (w *walker) count() *Error {
	if w.values++; w.values > w.lim.MaxValues {
		return &Error{Kind: TooManyValues, Limit: w.lim.MaxValues, Offset: int64(w.pos)}
	}
	return nil
}

// object reads the members of an object after its '{'.
func (w *walker) object(sh *shape, depth int) *Error {
	w.skipSpace()
	if w.pos < len(w.data) && w.data[w.pos] == '}' {
		w.pos++
		return nil
	}
	// Names seen so far, unescaped: a linear search over the first few
	// (on the stack), a map once the object has more.
	var few [16][]byte
	n := 0
	var seen map[string]struct{}
	for {
		if w.pos >= len(w.data) {
			return w.truncated()
		}
		if w.data[w.pos] != '"' {
			return w.syntax()
		}
		start := w.pos + 1
		esc, err := w.str()
		if err != nil {
			return err
		}
		raw := w.data[start : w.pos-1]
		key := raw
		if esc {
			key = unescape(w.data[start-1 : w.pos])
		}
		switch {
		case w.dupsOK:
		case seen != nil:
			if _, dup := seen[string(key)]; dup {
				return keyError(DuplicateKey, raw, esc, "", start)
			}
			seen[string(key)] = struct{}{}
		default:
			for _, k := range few[:n] {
				if string(k) == string(key) {
					return keyError(DuplicateKey, raw, esc, "", start)
				}
			}
			if n < len(few) {
				few[n] = key
				n++
			} else {
				seen = make(map[string]struct{}, 2*len(few))
				for _, k := range few {
					seen[string(k)] = struct{}{}
				}
				seen[string(key)] = struct{}{}
			}
		}
		var fsh *shape
		if sh != nil {
			if sh.fields != nil {
				f, known := sh.fields[string(key)]
				if !known {
					return keyError(UnknownField, raw, esc, sh.suggest(string(key)), start)
				}
				fsh = f
			} else {
				fsh = sh.values // nil unless a map
			}
		}
		w.skipSpace()
		if w.pos >= len(w.data) {
			return w.truncated()
		}
		if w.data[w.pos] != ':' {
			return w.syntax()
		}
		w.pos++
		var span *Span
		if depth == 1 && len(w.names) > 0 {
			w.skipSpace()
			if w.pos < len(w.data) && w.data[w.pos] == '"' {
				for _, n := range w.names {
					if n == string(key) {
						w.spans = append(w.spans, Span{Name: n, Start: w.pos})
						span = &w.spans[len(w.spans)-1]
						break
					}
				}
			}
		}
		if err := w.value(fsh, depth); err != nil {
			return at(err, seg{key: raw, esc: esc})
		}
		if span != nil {
			span.End = w.pos
		}
		w.skipSpace()
		if w.pos >= len(w.data) {
			return w.truncated()
		}
		switch w.data[w.pos] {
		case ',':
			w.pos++
			w.skipSpace()
		case '}':
			w.pos++
			return nil
		default:
			return w.syntax()
		}
	}
}

// array reads the elements of an array after its '['.
func (w *walker) array(elem *shape, depth int) *Error {
	w.skipSpace()
	if w.pos < len(w.data) && w.data[w.pos] == ']' {
		w.pos++
		return nil
	}
	for i := 0; ; i++ {
		if err := w.value(elem, depth); err != nil {
			return at(err, seg{index: i})
		}
		w.skipSpace()
		if w.pos >= len(w.data) {
			return w.truncated()
		}
		switch w.data[w.pos] {
		case ',':
			w.pos++
		case ']':
			w.pos++
			return nil
		default:
			return w.syntax()
		}
	}
}

func (w *walker) skipSpace() {
	for w.pos < len(w.data) {
		switch w.data[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return
		}
	}
}

func (w *walker) truncated() *Error {
	return &Error{Kind: Truncated, Offset: int64(len(w.data))}
}

// syntax reports the byte at pos as the offending one.
func (w *walker) syntax() *Error {
	if w.pos >= len(w.data) {
		return w.truncated()
	}
	return &Error{Kind: Syntax, Offset: int64(w.pos) + 1}
}

// scalar reads a string, number or literal at pos (which is not EOF).
func (w *walker) scalar() *Error {
	switch c := w.data[w.pos]; {
	case c == '"':
		_, err := w.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return w.number()
	case c == 't':
		return w.literal("true")
	case c == 'f':
		return w.literal("false")
	case c == 'n':
		return w.literal("null")
	}
	return w.syntax()
}

// plain marks the bytes a string holds without a second look: not '"',
// not '\\', not a control character.
var plain = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = i != '"' && i != '\\'
	}
	return t
}()

// str reads a string at pos (on its '"'), leaving pos after the closing
// quote, and reports whether it holds escapes.
func (w *walker) str() (esc bool, err *Error) {
	d := w.data
	i := w.pos + 1
	for {
		for i+8 <= len(d) && plain[d[i]] && plain[d[i+1]] && plain[d[i+2]] && plain[d[i+3]] &&
			plain[d[i+4]] && plain[d[i+5]] && plain[d[i+6]] && plain[d[i+7]] {
			i += 8
		}
		for i < len(d) && plain[d[i]] {
			i++
		}
		if i >= len(d) {
			w.pos = i
			return false, w.truncated()
		}
		switch d[i] {
		case '"':
			w.pos = i + 1
			return esc, nil
		case '\\':
			esc = true
			i++
			if i >= len(d) {
				w.pos = i
				return false, w.truncated()
			}
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				i++
				for j := 0; j < 4; j++ {
					if i >= len(d) {
						w.pos = i
						return false, w.truncated()
					}
					if !isHex(d[i]) {
						w.pos = i
						return false, w.syntax()
					}
					i++
				}
			default:
				w.pos = i
				return false, w.syntax()
			}
		default: // a control character
			w.pos = i
			return false, w.syntax()
		}
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number reads a JSON number at pos. What may follow it is the caller's
// business, as for every value.
func (w *walker) number() *Error {
	d := w.data
	i := w.pos
	if d[i] == '-' {
		i++
	}
	digits := func() *Error {
		if i >= len(d) {
			w.pos = i
			return w.truncated()
		}
		if d[i] < '0' || d[i] > '9' {
			w.pos = i
			return w.syntax()
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
		return nil
	}
	switch {
	case i >= len(d):
		w.pos = i
		return w.truncated()
	case d[i] == '0':
		i++
	default:
		if err := digits(); err != nil {
			return err
		}
	}
	if i < len(d) && d[i] == '.' {
		i++
		if err := digits(); err != nil {
			return err
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if err := digits(); err != nil {
			return err
		}
	}
	w.pos = i
	return nil
}

func (w *walker) literal(lit string) *Error {
	for j := 0; j < len(lit); j++ {
		if w.pos >= len(w.data) {
			return w.truncated()
		}
		if w.data[w.pos] != lit[j] {
			return w.syntax()
		}
		w.pos++
	}
	return nil
}

// keyError reports a member refused by name; start is the offset of the
// name's first byte after its quote. The path is added as it unwinds.
func keyError(k Kind, raw []byte, esc bool, suggest string, start int) *Error {
	return &Error{Kind: k, Key: keyString(raw, esc), suggest: suggest, Offset: int64(start)}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func keyString(raw []byte, esc bool) string {
	if !esc {
		return string(raw)
	}
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	return string(unescape(quoted))
}

// unescape decodes a quoted JSON string already known to be valid, the way
// encoding/json does (invalid surrogates become U+FFFD). Only names with
// escapes come here.
func unescape(quoted []byte) []byte {
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return quoted // unreachable: the string was scanned
	}
	return []byte(s)
}
