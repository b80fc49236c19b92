package event

import (
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/idverify/idverify/shared/gateway"
)

// mergeHeaders builds canonical http.Header from the two maps AWS shapes
// carry. multiValueHeaders holds every value when present; headers fills in
// keys it lacks (hand-written test events often have only headers).
func mergeHeaders(single map[string]string, multi map[string][]string) http.Header {
	h := make(http.Header, len(single)+len(multi))
	for k, vs := range multi {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range single {
		if len(h.Values(k)) == 0 {
			h.Add(k, v)
		}
	}
	return h
}

// mergeQuery is mergeHeaders for query strings: AWS hands over decoded
// values, so they are re-encoded into one RawQuery, keys sorted.
func mergeQuery(single map[string]string, multi map[string][]string) url.Values {
	q := make(url.Values, len(single)+len(multi))
	for k, vs := range multi {
		q[k] = append(q[k], vs...)
	}
	for k, v := range single {
		if _, ok := q[k]; !ok {
			q.Add(k, v)
		}
	}
	return q
}

// rawJoin joins query parameters that are still percent-encoded (ALB does
// not decode them) without encoding them a second time.
func rawJoin(single map[string]string, multi map[string][]string) string {
	vals := make(map[string][]string, len(single)+len(multi))
	for k, vs := range multi {
		vals[k] = vs
	}
	for k, v := range single {
		if _, ok := vals[k]; !ok {
			vals[k] = []string{v}
		}
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range vals[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(v)
		}
	}
	return b.String()
}

// firstValues keeps one value per header, for shapes whose headers map
// cannot repeat a key.
func firstValues(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			m[k] = vs[0]
		}
	}
	return m
}

// joinedValues folds repeated headers into one comma-separated value, which
// RFC 9110 §5.3 allows for every header except Set-Cookie; callers that can
// carry cookies separately remove Set-Cookie first.
func joinedValues(h http.Header, skip string) map[string]string {
	m := make(map[string]string, len(h))
	for k, vs := range h {
		if len(vs) == 0 || http.CanonicalHeaderKey(k) == skip {
			continue
		}
		m[k] = strings.Join(vs, ", ")
	}
	return m
}

// lastForwardedFor is the address the nearest proxy saw: proxies append
// the peer address, so the last X-Forwarded-For entry is the only one that a
// client cannot forge through that proxy.
func lastForwardedFor(h http.Header) string {
	vs := h.Values("X-Forwarded-For")
	if len(vs) == 0 {
		return ""
	}
	parts := strings.Split(vs[len(vs)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

// cookiesOf is the Set-Cookie values for the 2.0 shapes' cookies array;
// [] rather than null because the field has no omitempty.
func cookiesOf(resp *gateway.Response) []string {
	if c := resp.Header.Values("Set-Cookie"); len(c) > 0 {
		return c
	}
	return []string{}
}
