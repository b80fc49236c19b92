package tencent

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by New.
const (
	DefaultRegion  = "ap-guangzhou"
	DefaultTimeout = 30 * time.Second
)

// Config configures the live FaceID provider.
//
// SecretKey and SessionToken are secrets: String, GoString and LogValue
// redact them, so a Config can be printed or logged safely.
type Config struct {
	SecretID     string
	SecretKey    string
	SessionToken string // set with temporary (role) credentials; sent as X-TC-Token
	Region       string // X-TC-Region; DefaultRegion when empty
	// Endpoint overrides https://faceid.tencentcloudapi.com: a full URL such
	// as http://127.0.0.1:1234 (tests, private endpoints) or a bare host name
	// (https is then assumed).
	Endpoint string
	// Timeout caps every call on top of the caller's context deadline;
	// DefaultTimeout when zero.
	Timeout time.Duration
}

// ConfigFromEnv reads the configuration from the environment via getenv
// (os.Getenv in production, a map in tests):
//
//   - TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY: a permanent key pair;
//   - otherwise TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY /
//     TENCENTCLOUD_SESSIONTOKEN: the role credentials SCF injects;
//   - TENCENTCLOUD_REGION, IDV_TENCENT_ENDPOINT.
//
// The two sources are never mixed: a role session token must not be sent
// with a permanent key, or Tencent rejects the call.
func ConfigFromEnv(getenv func(string) string) Config {
	c := Config{
		SecretID:  getenv("TENCENTCLOUD_SECRET_ID"),
		SecretKey: getenv("TENCENTCLOUD_SECRET_KEY"),
		Region:    getenv("TENCENTCLOUD_REGION"),
		Endpoint:  getenv("IDV_TENCENT_ENDPOINT"),
	}
	if c.SecretID == "" && c.SecretKey == "" {
		c.SecretID = getenv("TENCENTCLOUD_SECRETID")
		c.SecretKey = getenv("TENCENTCLOUD_SECRETKEY")
		c.SessionToken = getenv("TENCENTCLOUD_SESSIONTOKEN")
	}
	return c
}

func (c Config) String() string {
	return fmt.Sprintf("tencent.Config{SecretID:%s SecretKey:%s SessionToken:%s Region:%s Endpoint:%s Timeout:%s}",
		maskID(c.SecretID), redact(c.SecretKey), redact(c.SessionToken), c.Region, c.Endpoint, c.Timeout)
}

// GoString keeps %#v from printing the fields raw.
func (c Config) GoString() string { return c.String() }

// LogValue keeps slog from printing the fields raw.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("secret_id", maskID(c.SecretID)),
		slog.String("secret_key", redact(c.SecretKey)),
		slog.String("session_token", redact(c.SessionToken)),
		slog.String("region", c.Region),
		slog.String("endpoint", c.Endpoint),
		slog.Duration("timeout", c.Timeout),
	)
}

// maskID keeps the first characters of a secret id so operators can tell
// which key is in use; the id alone cannot sign anything.
func maskID(id string) string {
	if len(id) <= 8 {
		return redact(id)
	}
	return id[:8] + "…"
}

func redact(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}

// endpoint turns Config.Endpoint into the SDK's HttpProfile.Scheme and
// HttpProfile.Endpoint. The SDK builds the URL as scheme://Endpoint and sends
// (and signs) Endpoint's host part as the Host header, so host:port must be
// exactly what the server sees.
func endpoint(raw string) (scheme, hostPath string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "HTTPS", "", nil // the SDK's default: faceid.tencentcloudapi.com
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", fmt.Errorf("invalid endpoint: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", fmt.Errorf("endpoint scheme %q: want http or https", u.Scheme)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("endpoint %q: want scheme://host[:port][/path]", raw)
	}
	// Any path is sent but, as in every Tencent SDK, the signature's
	// canonical URI is always "/"; only a server that ignores the prefix
	// (a gateway rewriting to "/") can verify such requests.
	hostPath = u.Host + strings.TrimSuffix(u.EscapedPath(), "/")
	return strings.ToUpper(u.Scheme), hostPath, nil
}
