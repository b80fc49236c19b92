package gateway

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/idverify/idverify/shared/jsonshape"
)

var withoutSeeds = []string{
	`{"Action":"Other","x":1}`,
	`{ "a" : [1, {"b" : "<c>"}] , "Action" : "X", "IdempotencyKey":"k", "\u0041ction2": null }`,
	`{"IdempotencyKey":"k"}`,
	`{"\u00e9t\u00e9":"\u2028","Action":"A"}`,
	`{}`,
	`{"a":1e400,"Action":"B","b":-0.0}`,
}

func TestWithoutMembers(t *testing.T) {
	_, order, ok := objectMembers([]byte(withoutSeeds[1]))
	if !ok {
		t.Fatal("not read")
	}
	got := string(withoutMembers(0, order, "Action", IdempotencyMember))
	if want := `{"a":[1, {"b" : "<c>"}],"Action2":null}`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// FuzzWithoutMembers holds the one-copy rebuild of an invocation's body to
// what decoding it into a map and encoding it again gave: the same members
// with the same values.
func FuzzWithoutMembers(f *testing.F) {
	for _, s := range withoutSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		if jsonshape.Check(nil, []byte(payload)) != nil {
			return // Invoke refuses it before
		}
		var raw map[string]json.RawMessage
		refOK := json.Unmarshal([]byte(payload), &raw) == nil && raw != nil
		byName, order, ok := objectMembers([]byte(payload))
		if ok != refOK {
			t.Fatalf("%q: object %v, encoding/json %v", payload, ok, refOK)
		}
		if !ok {
			return
		}
		if len(byName) != len(raw) {
			t.Fatalf("%q: %d members, encoding/json %d", payload, len(byName), len(raw))
		}
		ref := decodeNumbers(t, []byte(payload))
		delete(ref, "Action")
		delete(ref, IdempotencyMember)
		body := withoutMembers(len(payload), order, "Action", IdempotencyMember)
		got := decodeNumbers(t, body)
		if !reflect.DeepEqual(got, ref) {
			t.Fatalf("%q: rebuilt %s is %v, want %v", payload, body, got, ref)
		}
	})
}

// decodeNumbers decodes an object keeping numbers as written (1e400 is a
// valid member of a payload).
func decodeNumbers(t *testing.T, b []byte) map[string]any {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("%s does not decode: %v", b, err)
	}
	return m
}
