// Package tencentcloud is a fake of the Tencent Cloud APIs a Serverless Cloud
// Framework deploy touches: SCF (scf.tencentcloudapi.com, 2018-04-16), the
// CAM account lookup the CLI makes (cam.tencentcloudapi.com, GetUserAppId),
// the tag service, and COS buckets (<bucket>-<appid>.cos.<region>.myqcloud.com
// and service.cos.myqcloud.com).
//
// It speaks the real wire protocol over HTTPS on one loopback port, with a
// certificate for those host names from a CA it generates at start (CAFile,
// for NODE_EXTRA_CA_CERTS), so real clients reach it by sending their
// connections for those hosts to Addr while keeping the SNI and Host.
//
// It checks what the real services check: API signatures in both forms the
// clients use (TC3-HMAC-SHA256 through shared/tc3, with the credential
// scope's service required to be the host's; and the older HmacSHA1 /
// HmacSHA256 "signature v1" of form parameters that tencent-component-toolkit
// still sends to SCF), the timestamp window, X-TC-Token / Token of temporary
// credentials, Action and Version; COS requests carry a valid COS v5
// (q-sign-algorithm=sha1) Authorization. Errors have the real shapes:
// HTTP 200 with Response.Error for the API, XML <Error> with a 4xx status for
// COS.
//
// It keeps state (buckets and objects; functions with their configuration,
// environment and code zip, fetched from its own COS store when
// CreateFunction / UpdateFunctionCode names a COS object; triggers) and
// records every request it receives, including refused ones, so a test can
// assert exactly what a deploy sent and fail on anything unexpected.
package tencentcloud

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Defaults for Options left empty.
const (
	DefaultRegion    = "ap-guangzhou"
	DefaultAppID     = "1250000000"
	DefaultUin       = "100000000001"
	DefaultSecretID  = "AKIDfakeDeployer0001"
	DefaultSecretKey = "fakeDeployerSecretKey0001"

	SCFVersion = "2018-04-16"
	CAMVersion = "2019-01-16"
	TagVersion = "2018-08-13"
)

// MaxSkew is how far a signature's timestamp may be from the server clock,
// as on Tencent Cloud (AuthFailure.SignatureExpire).
const MaxSkew = 5 * time.Minute

// Credential is one key pair the fake accepts. Token, when set, must arrive
// (X-TC-Token, the Token parameter, or x-cos-security-token); when empty, a
// request carrying a token is refused.
type Credential struct {
	SecretID, SecretKey, Token string
}

// Options configures a Server.
type Options struct {
	AppID       string // the account's APPID (bucket suffix); DefaultAppID when empty
	Uin         string
	Credentials []Credential     // DefaultSecretID / DefaultSecretKey when empty
	Regions     []string         // regions served (COS host names, SCF Region); DefaultRegion when empty
	Now         func() time.Time // signature clock; nil is time.Now
}

// Call is one request the fake received.
type Call struct {
	Time    time.Time
	Host    string
	Service string // "scf", "cam", "tag", "cos", or the first host label for others
	Action  string // API action; for COS the operation (PutBucket, PutObject, ...)
	Version string
	Region  string
	Auth    string // TC3-HMAC-SHA256, HmacSHA1, HmacSHA256, cos-sha1, or "" when none was given
	// Params are the request parameters: the JSON body for TC3, the
	// unflattened form for signature v1 (every leaf a string, as sent), and
	// Bucket / Key / Size for COS.
	Params map[string]any
	// ErrorCode is the error answered, "" on success.
	ErrorCode string
}

// Server is the fake. Its methods are safe for concurrent use.
type Server struct {
	// Addr is the loopback host:port every fake host name is served on.
	Addr string
	// Port is Addr's port.
	Port string
	// CAFile is the PEM file of the CA that signed the server certificate.
	CAFile string
	// CAPool trusts that CA, for Go clients.
	CAPool *x509.CertPool

	appID, uin string
	regions    []string
	now        func() time.Time

	mu           sync.Mutex
	creds        map[string]Credential
	calls        []Call
	buckets      map[string]*bucket           // by full name <name>-<appid>, across regions
	functions    map[string]*function         // by region/namespace/name
	order        []string                     // function keys in creation order
	tags         []EnvVar                     // tags of the account (key, value)
	resourceTags map[string]map[string]string // tags attached, by resource
}

// Start runs the fake on a loopback HTTPS listener closed at the end of the
// test; the CA file lives in a temporary directory of tb.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := newServer(opts)
	caPEM, cert, err := issue(s.hostNames())
	if err != nil {
		tb.Fatal(err)
	}
	s.CAFile = filepath.Join(tb.TempDir(), "fake-tencentcloud-ca.pem")
	if err := os.WriteFile(s.CAFile, caPEM, 0o644); err != nil {
		tb.Fatal(err)
	}
	s.CAPool = x509.NewCertPool()
	s.CAPool.AppendCertsFromPEM(caPEM)
	srv := httptest.NewUnstartedServer(s)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	s.Addr = srv.Listener.Addr().String()
	_, s.Port, _ = net.SplitHostPort(s.Addr)
	return s
}

func newServer(opts Options) *Server {
	if opts.AppID == "" {
		opts.AppID = DefaultAppID
	}
	if opts.Uin == "" {
		opts.Uin = DefaultUin
	}
	if len(opts.Credentials) == 0 {
		opts.Credentials = []Credential{{SecretID: DefaultSecretID, SecretKey: DefaultSecretKey}}
	}
	if len(opts.Regions) == 0 {
		opts.Regions = []string{DefaultRegion}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		appID: opts.AppID, uin: opts.Uin, regions: opts.Regions, now: opts.Now,
		creds: map[string]Credential{}, buckets: map[string]*bucket{}, functions: map[string]*function{},
		resourceTags: map[string]map[string]string{},
	}
	for _, c := range opts.Credentials {
		s.creds[c.SecretID] = c
	}
	return s
}

// AppID is the account's APPID.
func (s *Server) AppID() string { return s.appID }

// Client is an HTTP client that trusts the fake's CA and sends every
// connection to Addr, whatever host the URL names.
func (s *Server) Client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: s.CAPool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, s.Addr)
		},
	}}
}

// hostNames are the certificate's names: the API hosts and, per region, the
// COS bucket wildcard.
func (s *Server) hostNames() []string {
	names := []string{"*.tencentcloudapi.com", "service.cos.myqcloud.com", "cos.myqcloud.com"}
	for _, r := range s.regions {
		names = append(names, "*.cos."+r+".myqcloud.com", "cos."+r+".myqcloud.com")
	}
	return names
}

// Calls returns every request received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Unexpected returns the calls answered InvalidAction, NoSuchVersion or an
// unknown host or COS operation: what a deploy sent that the fake does not
// model, which a test should treat as a failure.
func (s *Server) Unexpected() []Call {
	var out []Call
	for _, c := range s.Calls() {
		switch c.ErrorCode {
		case "InvalidAction", "NoSuchVersion", "UnknownHost", "NotImplemented":
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded calls (state is kept).
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

func (s *Server) record(c Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Time = s.now()
	s.calls = append(s.calls, c)
}

// requestID is a random UUID, as Tencent's RequestId.
func (s *Server) requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (s *Server) lookup(id string) (Credential, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.creds[id]
	return c, ok
}

// ServeHTTP routes by host name, as DNS would.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	switch {
	case strings.HasSuffix(host, ".tencentcloudapi.com"):
		s.serveAPI(w, r, host)
	case host == "service.cos.myqcloud.com" || strings.HasSuffix(host, ".myqcloud.com"):
		s.serveCOS(w, r, host)
	default:
		s.record(Call{Host: host, Service: firstLabel(host), Action: r.Method + " " + r.URL.Path, ErrorCode: "UnknownHost"})
		http.Error(w, "unknown host "+host, http.StatusBadGateway)
	}
}

func firstLabel(host string) string {
	l, _, _ := strings.Cut(host, ".")
	return l
}

// issue creates a CA and a server certificate for names.
func issue(names []string) (caPEM []byte, cert tls.Certificate, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, cert, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "idverify fake Tencent Cloud CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, cert, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, cert, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: names[0]},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, cert, err
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return caPEM, cert, nil
}
