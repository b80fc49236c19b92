package safefetch

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
)

// dnsServer answers A queries from a table over UDP, the way a real
// resolver would, so a name can be made to resolve to any address.
func dnsServer(t *testing.T, table map[string]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp := answer(buf[:n], table); resp != nil {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

// answer builds a DNS response (RFC 1035) to a one-question query.
func answer(q []byte, table map[string]string) []byte {
	if len(q) < 12 {
		return nil
	}
	var labels []string
	i := 12
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(q[i+1:])
	question := q[12 : i+5]
	name := strings.ToLower(strings.Join(labels, "."))
	ip, ok := table[name]
	resp := append([]byte{}, q[:2]...)
	rcode := byte(0)
	if !ok {
		rcode = 3 // NXDOMAIN
	}
	an := 0
	a := netip.MustParseAddr(orZero(ip))
	if ok && qtype == 1 && a.Is4() {
		an = 1
	}
	resp = append(resp, 0x81, 0x80|rcode, 0, 1, 0, byte(an), 0, 0, 0, 0)
	resp = append(resp, question...)
	if an == 1 {
		b := a.As4()
		resp = append(resp, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4)
		resp = append(resp, b[:]...)
	}
	return resp
}

func orZero(s string) string {
	if s == "" {
		return "0.0.0.0"
	}
	return s
}

func TestRefusesNonPublicAddressesAfterResolution(t *testing.T) {
	// A real server listens on loopback, so a refusal cannot be a mere
	// "connection refused".
	var hit atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hit.Store(true) }))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	res := dnsServer(t, map[string]string{
		"photos.example.test":   "127.0.0.1",
		"intranet.example.test": "10.20.30.40",
		"meta.example.test":     "169.254.169.254",
		"cgnat.example.test":    "100.64.1.1",
	})
	f := New(Options{Resolver: res})
	for _, u := range []string{
		"http://photos.example.test:" + port + "/a.jpg",
		"http://intranet.example.test/a.jpg",
		"http://meta.example.test/latest/meta-data/",
		"http://cgnat.example.test/a.jpg",
		"http://127.0.0.1:" + port + "/a.jpg",
		"http://localhost:" + port + "/a.jpg",
		"http://[::1]:" + port + "/a.jpg",
		"http://10.0.0.1/a.jpg",
		"http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0:" + port + "/",
	} {
		_, err := f.Get(context.Background(), u)
		if !errors.Is(err, ErrForbidden) {
			t.Errorf("%s: err = %v, want ErrForbidden", u, err)
		}
	}
	if hit.Load() {
		t.Fatal("the loopback server was reached")
	}
}

func TestSchemes(t *testing.T) {
	f := New(Options{})
	for _, u := range []string{"file:///etc/passwd", "ftp://example.com/a", "gopher://x/", "//example.com/a", "not a url", "http://user:pw@example.com/"} {
		if _, err := f.Get(context.Background(), u); !errors.Is(err, ErrScheme) {
			t.Errorf("%s: err = %v, want ErrScheme", u, err)
		}
	}
}

// withPermit builds a fetcher whose dial check admits exactly the given
// loopback listeners, standing in for "public" servers.
func withPermit(opts Options, allowed ...string) *Fetcher {
	f := &Fetcher{opts: New(opts).opts}
	d := &net.Dialer{Control: func(_, address string, _ syscall.RawConn) error {
		for _, a := range allowed {
			if a == address {
				return nil
			}
		}
		return checkAddress(address)
	}}
	return f.build(d)
}

func TestRedirectHopsAreChecked(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("secret")) }))
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-inner":
			http.Redirect(w, r, inner.URL+"/", http.StatusFound)
		case "/to-meta":
			http.Redirect(w, r, "http://169.254.169.254/latest/", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/to-ok":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			_, _ = w.Write([]byte("photo"))
		}
	}))
	defer outer.Close()
	f := withPermit(Options{}, outer.Listener.Addr().String())
	ctx := context.Background()
	if b, err := f.Get(ctx, outer.URL+"/to-ok"); err != nil || string(b) != "photo" {
		t.Fatalf("permitted redirect: %q %v", b, err)
	}
	for path, want := range map[string]error{"/to-inner": ErrForbidden, "/to-meta": ErrForbidden, "/to-file": ErrScheme, "/loop": ErrFetch} {
		if _, err := f.Get(ctx, outer.URL+path); !errors.Is(err, want) {
			t.Errorf("%s: err = %v, want %v", path, err, want)
		}
	}
}

func TestSizeLimit(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 101)))
	}))
	defer srv.Close()
	f := New(Options{MaxBytes: 100, AllowPrivate: true})
	for _, p := range []string{"/", "/chunked"} {
		if _, err := f.Get(context.Background(), srv.URL+p); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", p, err)
		}
	}
	f = New(Options{MaxBytes: 101, AllowPrivate: true})
	if b, err := f.Get(context.Background(), srv.URL+"/"); err != nil || len(b) != 101 {
		t.Fatalf("at the limit: %d %v", len(b), err)
	}
}

func TestStatus(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := New(Options{AllowPrivate: true}).Get(context.Background(), srv.URL); !errors.Is(err, ErrStatus) {
		t.Fatalf("err = %v", err)
	}
}

func TestErrorsDoNotQuoteTheURL(t *testing.T) {
	f := New(Options{})
	_, err := f.Get(context.Background(), "http://10.0.0.1/110101199003074477.jpg")
	if err == nil || strings.Contains(err.Error(), "110101199003074477") {
		t.Fatalf("err = %v", err)
	}
}

func TestPublic(t *testing.T) {
	for s, want := range map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.1.1.1": false, "172.16.0.1": false, "172.20.109.105": false,
		"192.168.1.1": false, "169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false,
		"::1": false, "fe80::1": false, "fc00::1": false, "::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false,
		"224.0.0.1": false, "255.255.255.255": false, "64:ff9b::a00:1": false, "2002:a00:1::": false,
	} {
		if got := Public(netip.MustParseAddr(s)); got != want {
			t.Errorf("Public(%s) = %v, want %v", s, got, want)
		}
	}
}
