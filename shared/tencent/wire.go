package tencent

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
)

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

// newTransport is the provider's HTTP transport: its own pool rather than a
// clone of http.DefaultTransport (2 idle connections per host), so
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
