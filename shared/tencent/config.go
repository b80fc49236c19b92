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
	// DefaultDeadlineMargin is kept free before the caller's deadline (the
	// platform's) so a late FaceID answer still leaves time to send ours
	// before the platform kills the invocation. A tenth of the time left is
	// used when that is smaller.
	DefaultDeadlineMargin = 500 * time.Millisecond
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
	// Timeout caps every call (all its attempts) on top of the caller's
	// context deadline; DefaultTimeout when zero.
	Timeout time.Duration
	// DeadlineMargin is kept free before the caller's context deadline;
	// DefaultDeadlineMargin when zero, none when negative.
	DeadlineMargin time.Duration
	// Credentials, when set, is read at every call instead of SecretID,
	// SecretKey and SessionToken, so rotated keys and refreshed role
	// credentials are used without rebuilding the provider. ConfigFromEnv
	// sets it.
	Credentials func() (secretID, secretKey, sessionToken string)
	// Logger receives one line per retry (action, attempt, class; never
	// parameters). Nil discards them.
	Logger *slog.Logger

	envErr error // a malformed variable seen by ConfigFromEnv, reported by New
}

// ConfigFromEnv reads the configuration from the environment via getenv
// (os.Getenv in production, a map in tests):
//
//   - TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY: a permanent key pair;
//   - otherwise TENCENTCLOUD_SECRETID / TENCENTCLOUD_SECRETKEY /
//     TENCENTCLOUD_SESSIONTOKEN: the role credentials SCF injects;
//   - TENCENTCLOUD_REGION, IDV_TENCENT_ENDPOINT, IDV_TENCENT_TIMEOUT (a Go
//     duration such as 5s).
//
// The two sources are never mixed: a role session token must not be sent
// with a permanent key, or Tencent rejects the call.
//
// The key fields hold the values at start (to decide between live and
// sandbox); Credentials keeps getenv and reads the same variables again at
// every call, because both sources change under a running instance: a key
// given as a secret reference is refreshed after its TTL, and SCF replaces
// the role credentials before they expire.
func ConfigFromEnv(getenv func(string) string) Config {
	c := Config{
		Region:   getenv("TENCENTCLOUD_REGION"),
		Endpoint: getenv("IDV_TENCENT_ENDPOINT"),
		Credentials: func() (string, string, string) {
			return credentialsFromEnv(getenv)
		},
	}
	c.SecretID, c.SecretKey, c.SessionToken = credentialsFromEnv(getenv)
	if raw := strings.TrimSpace(getenv("IDV_TENCENT_TIMEOUT")); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d <= 0 {
			c.envErr = fmt.Errorf("IDV_TENCENT_TIMEOUT=%q: want a positive Go duration such as 5s", raw)
		}
		c.Timeout = d
	}
	return c
}

func credentialsFromEnv(getenv func(string) string) (id, key, token string) {
	id, key = getenv("TENCENTCLOUD_SECRET_ID"), getenv("TENCENTCLOUD_SECRET_KEY")
	if id == "" && key == "" {
		return getenv("TENCENTCLOUD_SECRETID"), getenv("TENCENTCLOUD_SECRETKEY"), getenv("TENCENTCLOUD_SESSIONTOKEN")
	}
	return id, key, ""
}

// WithLogger returns c with Logger set.
func (c Config) WithLogger(l *slog.Logger) Config {
	c.Logger = l
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

// endpoint turns Config.Endpoint into a scheme and host[:port][/path], as
// the SDK's HttpProfile.Scheme and HttpProfile.Endpoint would hold them.
// The URL is scheme://host[:port][/path] and the host part is sent (and
// signed) as the Host header, so host:port must be exactly what the server
// sees.
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
