package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"sort"
	"strings"
)

// scfValues is a map whose values SCF writes loosely. The legacy API Gateway
// event's queryString holds a string for a single value, an array of
// strings for a repeated key and the boolean true for a key without a value
// ("?i"); real events differ from the documentation here (scf-go-lib fix
// ccd4bf6). Headers use the same type so an unexpected array there is not
// fatal either.
type scfValues map[string]scfValue

// scfValue is one key's values; bare marks a key sent without "=value".
type scfValue struct {
	vals []string
	bare bool
}

func (v *scfValue) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty value")
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v.vals = []string{s}
	case b[0] == '[':
		var raws []json.RawMessage
		if err := json.Unmarshal(b, &raws); err != nil {
			return err
		}
		for _, r := range raws {
			var s string
			if err := json.Unmarshal(r, &s); err != nil {
				return errors.New("array element is not a string")
			}
			v.vals = append(v.vals, s)
		}
	case string(b) == "true":
		v.bare = true
	case string(b) == "false", string(b) == "null":
		// no value at all: the key is dropped
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		v.vals = []string{n.String()}
	default:
		return errors.New("value is not a string, array of strings or true")
	}
	return nil
}

// rawQuery encodes the values as a query string, keys sorted so the result
// does not depend on map order.
func (m scfValues) rawQuery() string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	add := func(s string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(s)
	}
	for _, k := range keys {
		v := m[k]
		ek := url.QueryEscape(k)
		if v.bare {
			add(ek)
		}
		for _, s := range v.vals {
			add(ek + "=" + url.QueryEscape(s))
		}
	}
	return b.String()
}
