package tencent

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
)

// The SDK's CommonRequest and CommonResponse (default build) decode JSON into
// map[string]interface{}: numbers become float64 (9007199254740993 turns into
// ...992) and key order is lost. These two types carry the bytes instead, so
// a call forwards the caller's parameters and returns FaceID's answer as is.

// rawRequest is an SDK request whose JSON body is params. The SDK marshals
// the request with its json package, which uses MarshalJSON (and compacts the
// output, escaping <, > and & as \u003c... — the same JSON values).
//
// It must not have a ClientToken field: the SDK's network-failure retry only
// applies to requests that have one.
type rawRequest struct {
	*tchttp.BaseRequest
	params json.RawMessage
}

func newRawRequest(action string, params json.RawMessage) *rawRequest {
	r := &rawRequest{BaseRequest: &tchttp.BaseRequest{}, params: params}
	r.Init().WithApiInfo(service, version, action)
	return r
}

func (r *rawRequest) MarshalJSON() ([]byte, error) { return r.params, nil }

// rawResponse keeps the whole response body. The SDK has already turned a
// Response.Error into an error before it decodes into the response.
type rawResponse struct {
	tchttp.BaseResponse
	body []byte
}

func (r *rawResponse) UnmarshalJSON(b []byte) error {
	r.body = append([]byte(nil), b...)
	return nil
}

// statusKey marks a call's context with where to record the HTTP status.
type statusKey struct{}

// statusTransport records the HTTP status of each call in the *int its
// context carries (the SDK discards it before it reaches us), and refuses
// redirects: following a 307 would send a charged action a second time, to
// a host we did not choose.
type statusTransport struct{ next http.RoundTripper }

func (t statusTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if p, ok := r.Context().Value(statusKey{}).(*int); ok {
		*p = resp.StatusCode
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		resp.Body.Close()
		return nil, errRedirect
	}
	return resp, nil
}

var errRedirect = errors.New("redirect refused")

// credential is the SDK's CredentialIface over Config.Credentials. The SDK
// calls GetCredential once per request, so the id, key and token of one
// signature always come from the same read.
type credential struct {
	get func() (string, string, string)
}

func (c credential) GetCredential() (string, string, string) { return c.get() }
func (c credential) GetSecretId() string                     { id, _, _ := c.get(); return id }
func (c credential) GetSecretKey() string                    { _, k, _ := c.get(); return k }
func (c credential) GetToken() string                        { _, _, t := c.get(); return t }

// countingConn counts the bytes the kernel accepted for the peer. A request
// none of whose bytes left this process cannot have been processed, let
// alone billed, so it is the one network failure that is safe to retry.
type countingConn struct {
	net.Conn
	written atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.written.Add(int64(n))
	return n, err
}

// sendTrace watches one attempt through net/http/httptrace: it marks each
// connection the request is given (the transport may pick another after a
// failure on a reused one) and tells afterwards whether any byte was
// written on any of them. Bytes written before GotConn (the TLS handshake, a
// proxy CONNECT) are not the request and are not counted.
type sendTrace struct {
	mu      sync.Mutex
	marks   []connMark
	unknown bool // a connection we did not dial: assume the worst
}

type connMark struct {
	conn  *countingConn
	start int64
}

func (t *sendTrace) clientTrace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{GotConn: t.gotConn}
}

func (t *sendTrace) gotConn(info httptrace.GotConnInfo) {
	c := info.Conn
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok { // *tls.Conn
		c = nc.NetConn()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cc, ok := c.(*countingConn)
	if !ok {
		t.unknown = true
		return
	}
	// HTTP/1 only (see newTransport): the connection is ours alone until
	// the answer is read, so the counter's growth is this request's bytes.
	t.marks = append(t.marks, connMark{cc, cc.written.Load()})
}

// sent reports whether any byte of the request may have reached the server.
func (t *sendTrace) sent() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.unknown {
		return true
	}
	for _, m := range t.marks {
		if m.conn.written.Load() > m.start {
			return true
		}
	}
	return false
}

// newTransport is the provider's HTTP transport: its own pool rather than
// the SDK's clone of http.DefaultTransport (2 idle connections per host), so
// concurrent calls keep their connections; counting connections; HTTP/1
// only, because HTTP/2 multiplexes requests on one connection and a byte
// count could then no longer tell which request left.
func newTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c}, nil
	}
	tr.ForceAttemptHTTP2 = false
	tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	var p http.Protocols
	p.SetHTTP1(true)
	tr.Protocols = &p
	tr.MaxIdleConnsPerHost = 32
	tr.IdleConnTimeout = 30 * time.Second
	return tr
}
