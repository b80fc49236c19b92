package jsonshape

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

type inner struct {
	Iv          string   `json:"Iv"`
	EncryptList []string `json:"EncryptList"`
}

type question struct {
	Question string   `json:"Question"`
	Answers  []string `json:"Answers"`
}

type flex string

func (f *flex) UnmarshalJSON(b []byte) error { *f = flex(b); return nil }

type base struct {
	Shared string `json:"shared"`
	Name   string `json:"name"`
}

type model struct {
	IdCard     *string           `json:"IdCard"`
	Name       string            `json:"Name,omitempty"`
	Encryption *inner            `json:"Encryption"`
	Questions  []question        `json:"IntentionQuestions"`
	Ext        json.RawMessage   `json:"extData"`
	Any        any               `json:"any"`
	Labels     map[string]inner  `json:"labels"`
	Flex       flex              `json:"flex"`
	Skipped    string            `json:"-"`
	Dash       string            `json:"-,"`
	Untagged   int               //
	hidden     int               //nolint:unused // unexported: never a member
	Grid       [][]question      `json:"grid"`
	Tree       *node             `json:"tree"`
	Free       map[string]any    `json:"free"`
	Nums       map[int]string    `json:"nums"`
	Embedded   struct{ A int }   `json:"embedded"`
	Pointers   []*inner          `json:"pointers"`
	Scalars    []json.RawMessage `json:"scalars"`
}

type node struct {
	Value    int     `json:"value"`
	Children []*node `json:"children"`
}

type promoted struct {
	base
	Name string `json:"name"` // shadows base.Name
	Own  int    `json:"own"`
}

var modelType = reflect.TypeFor[model]()

func kindOf(t *testing.T, err error) *Error {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *Error: %T %v", err, err)
	}
	return e
}

func TestCheck(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	cases := []struct {
		name    string
		model   reflect.Type
		body    string
		kind    Kind
		path    string
		suggest string
	}{
		{"empty object", modelType, `{}`, 0, "", ""},
		{"spaces", modelType, " \t\r\n{ } \n", 0, "", ""},
		{"happy", modelType, `{"IdCard":"1","Name":"张三","Encryption":{"Iv":"x","EncryptList":["IdCard"]},"IntentionQuestions":[{"Question":"q","Answers":["a"]}]}`, 0, "", ""},
		{"untagged field by Go name", modelType, `{"Untagged":1}`, 0, "", ""},
		{"dash comma tag is named -", modelType, `{"-":"x"}`, 0, "", ""},
		{"dash tag skipped", modelType, `{"Skipped":"x"}`, UnknownField, "Skipped", ""},
		{"unexported skipped", modelType, `{"hidden":1}`, UnknownField, "hidden", ""},
		{"unknown member", modelType, `{"IdCard":"1","Nme":"x"}`, UnknownField, "Nme", ""},
		{"case-only mismatch", modelType, `{"idcard":"1"}`, UnknownField, "idcard", "IdCard"},
		{"case-only mismatch nested", modelType, `{"Encryption":{"iv":"x"}}`, UnknownField, "Encryption.iv", "Encryption.Iv"},
		{"unknown nested", modelType, `{"Encryption":{"Ivv":"x"}}`, UnknownField, "Encryption.Ivv", ""},
		{"unknown in array element", modelType, `{"IntentionQuestions":[{"Question":"q"},{"Answer":["a"]}]}`, UnknownField, "IntentionQuestions[1].Answer", ""},
		{"unknown in array of arrays", modelType, `{"grid":[[],[{"Question":"q","x":1}]]}`, UnknownField, "grid[1][0].x", ""},
		{"unknown in map value", modelType, `{"labels":{"a":{"Iv":"x"},"b":{"IV":"y"}}}`, UnknownField, "labels.b.IV", "labels.b.Iv"},
		{"unknown in recursive type", modelType, `{"tree":{"value":1,"children":[{"value":2,"children":[{"valu":3}]}]}}`, UnknownField, "tree.children[0].children[0].valu", ""},
		{"unknown in anonymous struct", modelType, `{"embedded":{"A":1,"B":2}}`, UnknownField, "embedded.B", ""},
		{"unknown in pointer elements", modelType, `{"pointers":[null,{"Iv":"x","y":1}]}`, UnknownField, "pointers[1].y", ""},
		{"escaped unknown name is unescaped", modelType, `{"N\u00e4me":"x"}`, UnknownField, "Näme", ""},
		{"escaped known name", modelType, `{"Id\u0043ard":"1"}`, 0, "", ""},
		{"raw message takes anything", modelType, `{"extData":{"a":[1,{"b":null}],"c":"d"}}`, 0, "", ""},
		{"interface takes anything", modelType, `{"any":{"x":{"y":[true]}}}`, 0, "", ""},
		{"unmarshaler takes anything", modelType, `{"flex":{"x":1}}`, 0, "", ""},
		{"map of any takes anything", modelType, `{"free":{"x":{"y":1}},"nums":{"1":"a"}}`, 0, "", ""},
		{"raw elements take anything", modelType, `{"scalars":[1,"a",{"b":[]}]}`, 0, "", ""},
		{"scalar field given an object is left to the decode", modelType, `{"Name":{"anything":1}}`, 0, "", ""},
		{"slice field given an object is left to the decode", modelType, `{"IntentionQuestions":{"x":{"y":1}}}`, 0, "", ""},
		{"struct field given an array is left to the decode", modelType, `{"Encryption":[{"x":1}]}`, 0, "", ""},
		{"duplicate top level", modelType, `{"IdCard":"1","Name":"a","IdCard":"2"}`, DuplicateKey, "IdCard", ""},
		{"duplicate nested", modelType, `{"Encryption":{"Iv":"a","Iv":"b"}}`, DuplicateKey, "Encryption.Iv", ""},
		{"duplicate escaped", modelType, `{"IdCard":"1","Id\u0043ard":"2"}`, DuplicateKey, "IdCard", ""},
		{"duplicate inside raw message", modelType, `{"extData":{"a":1,"a":2}}`, DuplicateKey, "extData.a", ""},
		{"duplicate inside array element", modelType, `{"any":[{},{"k":1,"k":1}]}`, DuplicateKey, "any[1].k", ""},
		{"same name in sibling objects", modelType, `{"any":[{"k":1},{"k":1}],"extData":{"k":{"k":1}}}`, 0, "", ""},
		{"duplicate unknown is unknown first", modelType, `{"X":1,"X":2}`, UnknownField, "X", ""},
		{"nil model takes any member", nil, `{"X":{"Y":[1,{"Z":null}]}}`, 0, "", ""},
		{"nil model duplicate", nil, `{"X":{"Y":1,"Y":2}}`, DuplicateKey, "X.Y", ""},
		{"empty struct takes nothing", reflect.TypeFor[struct{}](), `{"X":1}`, UnknownField, "X", ""},
		{"pointer model", reflect.TypeFor[*model](), `{"Nope":1}`, UnknownField, "Nope", ""},
		{"promoted fields", reflect.TypeFor[promoted](), `{"shared":"a","name":"b","own":1}`, 0, "", ""},
		{"promoted unknown", reflect.TypeFor[promoted](), `{"base":{}}`, UnknownField, "base", ""},
		{"invalid UTF-8 in a value", modelType, "{\"Name\":\"\xff\"}", InvalidUTF8, "", ""},
		{"invalid UTF-8 in a name", modelType, "{\"\xc3\":1}", InvalidUTF8, "", ""},
		{"trailing object", modelType, `{} {}`, TrailingData, "", ""},
		{"trailing garbage", modelType, `{"Name":"a"}x`, TrailingData, "", ""},
		{"trailing nul", modelType, "{}\x00", TrailingData, "", ""},
		{"array", modelType, `[{}]`, NotObject, "", ""},
		{"string", modelType, `"{}"`, NotObject, "", ""},
		{"null", modelType, `null`, NotObject, "", ""},
		{"number", modelType, `12`, NotObject, "", ""},
		{"empty", modelType, ``, Truncated, "", ""},
		{"blank", modelType, "  \n", Truncated, "", ""},
		{"truncated object", modelType, `{"Name":"a"`, Truncated, "", ""},
		{"truncated string", modelType, `{"Name":"a`, Truncated, "", ""},
		{"truncated escape", modelType, `{"Name":"a\u00`, Truncated, "", ""},
		{"truncated literal", modelType, `{"any":tr`, Truncated, "", ""},
		{"truncated number", modelType, `{"any":1.`, Truncated, "", ""},
		{"truncated after colon", modelType, `{"any":`, Truncated, "", ""},
		{"truncated top string", modelType, `"abc`, Truncated, "", ""},
		{"missing colon", modelType, `{"Name" "a"}`, Syntax, "", ""},
		{"missing comma", modelType, `{"Name":"a" "IdCard":"b"}`, Syntax, "", ""},
		{"trailing comma", modelType, `{"Name":"a",}`, Syntax, "", ""},
		{"trailing comma in array", modelType, `{"any":[1,]}`, Syntax, "", ""},
		{"single quotes", modelType, `{'Name':'a'}`, Syntax, "", ""},
		{"bad escape", modelType, `{"Name":"a\q"}`, Syntax, "", ""},
		{"bad unicode escape", modelType, `{"Name":"\u12G4"}`, Syntax, "", ""},
		{"control character", modelType, "{\"Name\":\"a\tb\"}", Syntax, "", ""},
		{"leading zero", modelType, `{"any":01}`, Syntax, "", ""},
		{"bare minus", modelType, `{"any":-}`, Syntax, "", ""},
		{"plus sign", modelType, `{"any":+1}`, Syntax, "", ""},
		{"bad exponent", modelType, `{"any":1e+}`, Syntax, "", ""},
		{"bad literal", modelType, `{"any":nul}`, Syntax, "", ""},
		{"capital literal", modelType, `{"any":True}`, Syntax, "", ""},
		{"comment", modelType, `{"any":1 // c
}`, Syntax, "", ""},
		{"non-string key", modelType, `{1:2}`, Syntax, "", ""},
		{"bad top", modelType, `x`, Syntax, "", ""},
		{"byte order mark", modelType, "\xef\xbb\xbf{}", Syntax, "", ""},
		{"bad top scalar", modelType, `tru`, Truncated, "", ""},
		{"at depth limit", nil, `{"a":` + deep(DefaultMaxDepth-1) + `}`, 0, "", ""},
		{"over depth limit", nil, `{"a":` + deep(DefaultMaxDepth) + `}`, TooDeep, "a" + strings.Repeat("[0]", DefaultMaxDepth-1), ""},
		{"very deep", modelType, `{"any":` + deep(100000) + `}`, TooDeep, "any" + strings.Repeat("[0]", DefaultMaxDepth-1), ""},
		{"deep objects", nil, strings.Repeat(`{"a":`, 30) + "1" + strings.Repeat("}", 30), TooDeep, strings.TrimSuffix(strings.Repeat("a.", DefaultMaxDepth), "."), ""},
		{"at value limit", nil, `{"a":[` + strings.Repeat("0,", DefaultMaxValues-3) + `0]}`, 0, "", ""},
		{"over value limit", nil, `{"a":[` + strings.Repeat("0,", DefaultMaxValues-2) + `0]}`, TooManyValues, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := kindOf(t, Check(c.model, []byte(c.body)))
			if c.kind == 0 {
				if e != nil {
					t.Fatalf("refused: %v (%+v)", e, *e)
				}
				return
			}
			if e == nil || e.Kind != c.kind {
				t.Fatalf("want %v, got %v", c.kind, e)
			}
			if e.Path != c.path || e.Suggest != c.suggest {
				t.Errorf("path %q suggest %q, want %q and %q", e.Path, e.Suggest, c.path, c.suggest)
			}
			if (c.kind == UnknownField || c.kind == DuplicateKey) && !strings.HasSuffix(e.Path, e.Key) {
				t.Errorf("key %q is not the end of path %q", e.Key, e.Path)
			}
			if e.Error() == "" || !strings.HasPrefix(e.Error(), "jsonshape: ") {
				t.Errorf("message %q", e.Error())
			}
		})
	}
}

// TestOffsets: a syntax error is reported where encoding/json reports it,
// and invalid UTF-8 at its first bad byte.
func TestOffsets(t *testing.T) {
	for _, body := range []string{
		`{"IdCard":"x" "Name":"y"}`, `{"IdCard":"x\q"}`, `{"a":[1,2,x]}`, `{"IdCard":tru}`, `{"IdCard":1.}`,
		`{"a":"b",}`, `{"a":-x}`, `{"a":1e}`, "{\"a\":\"\x01\"}", `{"a" 1}`, `x`, `{"a":[1 2]}`, `{"a":{"b":1]}`,
		`{"a":"\u00zz"}`, `{"a":00}`, `{"a":1.5e+x}`,
	} {
		err := Check(nil, []byte(body))
		e := kindOf(t, err)
		var se *json.SyntaxError
		if jerr := json.Unmarshal([]byte(body), new(any)); !errors.As(jerr, &se) {
			t.Fatalf("%s: encoding/json says %v", body, jerr)
		}
		if e == nil || e.Kind != Syntax || e.Offset != se.Offset {
			t.Errorf("%s: got %v, encoding/json says %v at %d", body, e, se, se.Offset)
		}
	}
	e := kindOf(t, Check(nil, []byte("{\"ab\xffc\":1}")))
	if e == nil || e.Kind != InvalidUTF8 || e.Offset != 5 {
		t.Errorf("invalid UTF-8: %+v", e)
	}
}

func TestLimits(t *testing.T) {
	body := []byte(`{"a":[[[1]]]}`) // depth 4, 5 values
	if err := CheckLimits(nil, body, Limits{MaxDepth: 4, MaxValues: 5}); err != nil {
		t.Fatalf("at the limits: %v", err)
	}
	if e := kindOf(t, CheckLimits(nil, body, Limits{MaxDepth: 3})); e == nil || e.Kind != TooDeep || e.Limit != 3 || e.Path != "a[0][0]" {
		t.Errorf("depth 3: %+v", e)
	}
	if e := kindOf(t, CheckLimits(nil, body, Limits{MaxValues: 4})); e == nil || e.Kind != TooManyValues || e.Limit != 4 {
		t.Errorf("values 4: %+v", e)
	}
}

// TestManyMembers: an object with more members than the linear duplicate
// search covers still finds a duplicate, and distinct members pass.
func TestManyMembers(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := range 500 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + `":0`)
	}
	ok := b.String() + "}"
	if err := Check(nil, []byte(ok)); err != nil {
		t.Fatalf("distinct members: %v", err)
	}
	for _, dup := range []string{`,"kaa":1}`, `,"kxxft":1}`} {
		e := kindOf(t, Check(nil, []byte(b.String()+dup)))
		if e == nil || e.Kind != DuplicateKey {
			t.Errorf("%s: %v", dup, e)
		}
	}
}

// TestErrorNamesNoValue: an error holds member names, never values.
func TestErrorNamesNoValue(t *testing.T) {
	e := kindOf(t, Check(modelType, []byte(`{"Nme":"110101199003074477"}`)))
	if strings.Contains(e.Error(), "110101") || strings.Contains(e.Path, "110101") {
		t.Fatalf("error leaks the value: %v", e)
	}
}

func TestCheckAllocations(t *testing.T) {
	body := []byte(`{"IdCard":"1","Name":"张三","Encryption":{"Iv":"x","EncryptList":["IdCard","Name"]},"IntentionQuestions":[{"Question":"q","Answers":["a","b"]}],"extData":{"a":[1,2,{"b":null}]}}`)
	if err := Check(modelType, body); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = Check(modelType, body) }); n > 0 {
		t.Errorf("%v allocations per accepted body, want 0", n)
	}
}

// FuzzCheck compares Check with encoding/json on arbitrary bodies, against
// a model (the byte's low bit) or none:
//   - an accepted body is valid JSON, decodes into the model with unknown
//     fields disallowed (at worst a type error, never an unknown field or
//     a syntax error), and has no member twice;
//   - a body refused as Syntax, Truncated or TrailingData is refused by
//     json.Valid, and for Syntax at the very offset encoding/json names;
//   - a body refused as InvalidUTF8 is not valid UTF-8, and every other
//     outcome is for a valid UTF-8 body;
//   - an UnknownField or DuplicateKey has a path ending in its key.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		`{"IdCard":"1","Name":"张三","Encryption":{"Iv":"x","EncryptList":["IdCard"]}}`,
		`{"IntentionQuestions":[{"Question":"q","Answers":["a"]}],"extData":{"a":[1,{"b":null}]}}`,
		`{"tree":{"value":1,"children":[{"value":2}]},"labels":{"a":{"Iv":"x"}}}`,
		`{"a":1,"a":2}`, `{"idcard":"x"}`, `{"Id\u0043ard":"1","IdCard":"2"}`, `{} {}`, `[]`, `{"a":1e5}`,
		`{"a":-0.5E-3,"b":"\ud800\u00e9\n"}`, "{\"a\":\"\xff\"}", `{"a":[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]}`,
	} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s)
	}
	f.Fuzz(func(t *testing.T, pick uint8, body string) {
		var m reflect.Type
		if pick&1 == 1 {
			m = modelType
		}
		err := Check(m, []byte(body))
		if err == nil {
			if !json.Valid([]byte(body)) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
			var v any
			if err := json.Unmarshal([]byte(body), &v); err != nil {
				// A number beyond float64 (1e700) is valid JSON: its
				// range is the decoding model's business (precheck names
				// the field), not the shape's.
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) || !strings.HasPrefix(te.Value, "number") {
					t.Fatalf("accepted %q that does not decode: %v", body, err)
				}
				return
			}
			if _, ok := v.(map[string]any); !ok {
				t.Fatalf("accepted %q that is not an object", body)
			}
			if m != nil {
				dec := json.NewDecoder(strings.NewReader(body))
				dec.DisallowUnknownFields()
				var x model
				if err := dec.Decode(&x); err != nil {
					var te *json.UnmarshalTypeError
					if !errors.As(err, &te) {
						t.Fatalf("accepted %q that the model refuses: %v", body, err)
					}
				}
			}
			if hasDuplicate(t, []byte(body)) {
				t.Fatalf("accepted %q with a duplicate member", body)
			}
			return
		}
		e := kindOf(t, err)
		if (e.Kind == InvalidUTF8) == utf8.ValidString(body) {
			t.Fatalf("%q: kind %v", body, e.Kind)
		}
		switch e.Kind {
		case Syntax, Truncated, TrailingData:
			if json.Valid([]byte(body)) {
				t.Fatalf("refused valid JSON %q as %v", body, e.Kind)
			}
			if e.Kind == Syntax {
				var se *json.SyntaxError
				if jerr := json.Unmarshal([]byte(body), new(any)); !errors.As(jerr, &se) || se.Offset != e.Offset {
					t.Fatalf("%q: syntax error at %d, encoding/json says %v", body, e.Offset, jerr)
				}
			}
		case UnknownField, DuplicateKey:
			if !strings.HasSuffix(e.Path, e.Key) {
				t.Fatalf("%q: path %q key %q", body, e.Path, e.Key)
			}
		}
	})
}

// hasDuplicate walks body with encoding/json's tokenizer, as an
// independent check for duplicate members.
func hasDuplicate(t *testing.T, body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	type frame struct {
		obj  bool
		seen map[string]bool
		key  bool // the next token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			k := tok.(string)
			if top.seen[k] {
				return true
			}
			top.seen[k] = true
			top.key = false
			continue
		}
		if top != nil && top.obj {
			top.key = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, seen: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].key = true
			}
		}
	}
}

func benchBody() []byte {
	raw := make([]byte, (3<<20)/4*3)
	_, _ = rand.Read(raw)
	b, _ := json.Marshal(map[string]string{"IdCard": "110101199003074477", "Name": "张三", "Any": base64.StdEncoding.EncodeToString(raw)})
	return bytes.Replace(b, []byte(`"Any"`), []byte(`"any"`), 1)
}

// BenchmarkLargeString: a 3 MiB base64 member, the usual media body.
func BenchmarkLargeString(b *testing.B) {
	body := benchBody()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(modelType, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostileValues: many tiny values are refused after MaxValues.
func BenchmarkHostileValues(b *testing.B) {
	body := []byte(`{"any":[` + strings.Repeat(`0,`, 4<<20) + `0]}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Check(modelType, body); err == nil {
			b.Fatal("accepted")
		}
	}
}

// TestConcurrentFirstUse: models are described once, safely, whoever
// checks first (run with -race).
func TestConcurrentFirstUse(t *testing.T) {
	type fresh struct {
		Self  *fresh          `json:"self"`
		Items []fresh         `json:"items"`
		Ext   json.RawMessage `json:"ext"`
	}
	done := make(chan error)
	for range 8 {
		go func() {
			done <- Check(reflect.TypeFor[fresh](), []byte(`{"self":{"items":[{"ext":{"x":1}}]},"items":[]}`))
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	e := kindOf(t, Check(reflect.TypeFor[fresh](), []byte(`{"self":{"self":{"items":[{"bad":1}]}}}`)))
	if e == nil || e.Kind != UnknownField || e.Path != "self.self.items[0].bad" {
		t.Fatalf("%v", e)
	}
}

// CheckStrings locates the string values of the top-level members asked
// for, escaped names included, and nothing nested or of another type.
func TestCheckStrings(t *testing.T) {
	body := []byte(` { "IdCard" : "11\"0" , "Name":null, "Encryption":{"Iv":"nested"}, "flex":"f", "extData":{"IdCard":"x"}, "\u0061ny": "a\/b" }`)
	spans, err := CheckStrings(modelType, body, Limits{}, []string{"IdCard", "Name", "Iv", "any"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range spans {
		got = append(got, s.Name+"="+string(body[s.Start:s.End]))
	}
	if want := []string{`IdCard="11\"0"`, `any="a\/b"`}; !reflect.DeepEqual(got, want) {
		t.Fatalf("spans %q, want %q", got, want)
	}
	// A refused body has no spans, and the same error as Check.
	bad := []byte(`{"IdCard":"1","IdCard":"2"}`)
	spans, err = CheckStrings(modelType, bad, Limits{}, []string{"IdCard"})
	if spans != nil || kindOf(t, err).Kind != DuplicateKey || kindOf(t, Check(modelType, bad)).Kind != DuplicateKey {
		t.Fatalf("spans %v, err %v", spans, err)
	}
}
