// Package safefetch downloads a caller-named URL without letting the caller
// reach into the network the function runs in (SSRF). Only http and https
// are fetched, with a size and a time limit, and the address actually dialed
// is checked after DNS resolution, so a public name that resolves to
// 127.0.0.1, 10.x or 169.254.169.254 (the cloud metadata service) is refused
// just like the literal address. Redirects are followed a few times and each
// hop goes through the same dial check.
package safefetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// Defaults applied by New.
const (
	DefaultMaxBytes     = 4 << 20
	DefaultTimeout      = 10 * time.Second
	DefaultMaxRedirects = 3
)

// Options configure a Fetcher. The zero value is the safe default.
type Options struct {
	// MaxBytes bounds the body; a longer body is an error, never truncated.
	MaxBytes int64
	// Timeout bounds the whole fetch, redirects included.
	Timeout      time.Duration
	MaxRedirects int
	// AllowPrivate lets the fetcher reach loopback and private addresses.
	// Only for URLs the operator configured (a file server inside the
	// VPC), never for URLs a caller sent.
	AllowPrivate bool
	// Resolver replaces the system resolver (tests use a private DNS
	// server to show that names are checked after resolution).
	Resolver *net.Resolver
}

// Fetcher is safe for concurrent use.
type Fetcher struct {
	opts   Options
	client *http.Client
}

// Error kinds, for errors.Is.
var (
	ErrScheme    = errors.New("only http and https URLs are fetched")
	ErrForbidden = errors.New("the address is loopback, private, link-local or otherwise not public")
	ErrTooLarge  = errors.New("the body is larger than the limit")
	ErrStatus    = errors.New("the server did not answer 200")
	ErrFetch     = errors.New("the URL could not be fetched")
)

// New builds a Fetcher.
func New(opts Options) *Fetcher {
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxRedirects <= 0 {
		opts.MaxRedirects = DefaultMaxRedirects
	}
	dialer := &net.Dialer{Timeout: opts.Timeout, Resolver: opts.Resolver}
	if !opts.AllowPrivate {
		// Control sees the resolved IP of every connection attempt, after
		// DNS and for every redirect hop: checking here closes the gap
		// between a check on the name and the address used (DNS rebinding).
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			return checkAddress(address)
		}
	}
	f := &Fetcher{opts: opts}
	return f.build(dialer)
}

// build finishes New; tests swap dialer.Control before calling it.
func (f *Fetcher) build(dialer *net.Dialer) *Fetcher {
	opts := f.opts
	tr := &http.Transport{
		// No proxy: a proxy would dial on our behalf and the check above
		// would see only the proxy's address.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConns:          4,
		IdleConnTimeout:       30 * time.Second,
		DisableCompression:    true, // a small gzip body must not expand past MaxBytes unseen
	}
	f.client = &http.Client{
		Transport: tr,
		Timeout:   opts.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > opts.MaxRedirects {
				return fmt.Errorf("more than %d redirects", opts.MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return ErrScheme
			}
			return nil
		},
	}
	return f
}

// Get fetches rawURL and returns its body. Errors wrap one of the Err
// values above and never quote the URL (it may carry personal data).
func (f *Fetcher) Get(ctx context.Context, rawURL string) ([]byte, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ErrScheme
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: user information in the URL is not allowed", ErrScheme)
	}
	ctx, cancel := context.WithTimeout(ctx, f.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, ErrScheme
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, classify(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w (status %d)", ErrStatus, resp.StatusCode)
	}
	if resp.ContentLength > f.opts.MaxBytes {
		return nil, fmt.Errorf("%w of %d bytes", ErrTooLarge, f.opts.MaxBytes)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, f.opts.MaxBytes+1))
	if err != nil {
		return nil, classify(err)
	}
	if int64(len(b)) > f.opts.MaxBytes {
		return nil, fmt.Errorf("%w of %d bytes", ErrTooLarge, f.opts.MaxBytes)
	}
	return b, nil
}

// classify keeps the class of a transport error without its text, which
// quotes the URL.
func classify(err error) error {
	switch {
	case errors.Is(err, ErrForbidden):
		return ErrForbidden
	case errors.Is(err, ErrScheme):
		return ErrScheme
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: timed out", ErrFetch)
	}
	var ue *url.Error
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Errorf("%w: timed out", ErrFetch)
	}
	return ErrFetch
}

// checkAddress refuses every address that is not a public unicast one.
func checkAddress(hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return ErrForbidden
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 {
		return ErrForbidden
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return ErrForbidden
	}
	if !Public(ip) {
		return ErrForbidden
	}
	return nil
}

// nonPublic lists ranges beyond what netip classifies: carrier-grade NAT,
// IETF protocol assignments, documentation and benchmarking networks, the
// IPv4 broadcast and reserved block, NAT64 and 6to4 relays (which embed an
// IPv4 address that may be private).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2002::/16"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("100::/64"),
}

// Public reports whether ip is a public unicast address a caller-supplied
// URL may reach.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() ||
		ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() || !ip.IsGlobalUnicast() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}
