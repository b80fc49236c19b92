package httpserver

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/idverify/idverify/shared/gateway"
)

// errTooLarge reports a body over the limit; the caller answers 413.
var errTooLarge = errors.New("request body too large")

// FromHTTP converts r into a gateway.Request, reading at most maxBody bytes
// of body. The client address is the TCP peer, or with trustProxy the last
// X-Forwarded-For entry: the one the proxy in front of us appended, the only
// one a client cannot forge through it. RequestID is left empty (plain HTTP
// carries no platform id); dispatch fills it.
func FromHTTP(r *http.Request, maxBody int64, trustProxy bool) (*gateway.Request, error) {
	if r.ContentLength > maxBody {
		return nil, errTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > maxBody {
		return nil, errTooLarge
	}
	if len(body) == 0 {
		body = nil
	}
	h := r.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	// net/http moves Host out of the header map; platform events keep it
	// there, so put it back for the gateway to see the same thing.
	if r.Host != "" {
		h.Set("Host", r.Host)
	}
	return &gateway.Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   h,
		Body:     body,
		SourceIP: clientIP(r, trustProxy),
	}, nil
}

func clientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if vs := r.Header.Values("X-Forwarded-For"); len(vs) > 0 {
			parts := strings.Split(vs[len(vs)-1], ",")
			if ip := strings.TrimSpace(parts[len(parts)-1]); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
