package jsonshape

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Members and Member read an object as decoding it into a
// map[string]json.RawMessage would.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{
		`{"Response":{"Result":"0","RequestId":"r"}}`, `{}`, ` { "a" : 1 , "a" : [2] } `, `{"\u0041":"x","A":null}`,
		`{"a":1,}`, `{"a" 1}`, `{"":{"":"","":""}}`, `{"a":[{"b":1,"b":2}]}`, `[1]`, `{"a":1} x`, `{"a":"\ud800"}`, `{"a":{"b":[{"c":true}]}}`, `{"a":1e5,"b":-0.5}`,
	} {
		f.Add(s, "a")
	}
	f.Fuzz(func(t *testing.T, s, name string) {
		var m map[string]json.RawMessage
		err := json.Unmarshal([]byte(s), &m)
		valid := err == nil && m != nil
		got := map[string]json.RawMessage{}
		ok := Members([]byte(s), func(n, v []byte) bool {
			got[string(n)] = json.RawMessage(v)
			return true
		})
		if ok != valid {
			t.Fatalf("%q: Members says %v, encoding/json %v", s, ok, err)
		}
		if !ok {
			return
		}
		if len(got) != len(m) {
			t.Fatalf("%q: members %v, encoding/json %v", s, got, m)
		}
		for k, v := range m {
			if string(got[k]) != string(v) {
				t.Fatalf("%q: %q = %s, encoding/json %s", s, k, got[k], v)
			}
		}
		v, found := Member([]byte(s), name)
		if want, has := m[name]; found != has || string(v) != string(want) {
			t.Fatalf("%q: Member(%q) = %s %v, want %s %v", s, name, v, found, want, has)
		}
	})
}

func TestMembersStopsAndAllocatesNothing(t *testing.T) {
	body := []byte(`{"Response":{"Result":"0","Description":"认证通过","RequestId":"r"}}`)
	var names []string
	Members([]byte(`{"a":1,"b":2,"c":3}`), func(n, _ []byte) bool { names = append(names, string(n)); return len(names) < 2 })
	if !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Fatalf("names %v", names)
	}
	resp, _ := Member(body, "Response")
	if n := testing.AllocsPerRun(100, func() { _, _ = Member(resp, "Result") }); n > 0 {
		t.Fatalf("%v allocations", n)
	}
}
