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

// FromHTTP converts r into a gateway.Request. The body is not read here:
// it is handed over as BodyReader, capped at maxBody (the platform's
// ceiling), and the pipeline reads it only once the route and its own cap
// are known and the caller's headers have passed, so an outsider cannot
// make the function buffer a body. A declared length over maxBody is
// refused at once. The client address is the TCP peer, or with trustProxy
// the last X-Forwarded-For entry: the one the proxy in front of us
// appended, the only one a client cannot forge through it. RequestID is
// left empty (plain HTTP carries no platform id); dispatch fills it.
func FromHTTP(w http.ResponseWriter, r *http.Request, maxBody int64, trustProxy bool) (*gateway.Request, error) {
	if r.ContentLength > maxBody {
		return nil, errTooLarge
	}
	var body io.Reader
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		body = http.MaxBytesReader(w, r.Body, maxBody)
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
		Method:        r.Method,
		Path:          r.URL.Path,
		RawQuery:      r.URL.RawQuery,
		Header:        h,
		BodyReader:    body,
		ContentLength: r.ContentLength,
		SourceIP:      clientIP(r, trustProxy),
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
