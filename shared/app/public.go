package app

import (
	"net/url"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/runtime"
)

// PublicURLVar is the address browsers reach this function set at: the
// base of flows' return routes and of the sandbox's H5 pages.
const PublicURLVar = "IDV_PUBLIC_URL"

// PublicURL is the base URL browsers reach this function at, without a
// trailing slash: IDV_PUBLIC_URL when set (https, or http on a loopback
// host), else http://localhost:<port> for the local server, else "" (a
// deployed function that was not told its address: flows then leave the
// caller's redirect alone and finish by polling).
func (e *Env) PublicURL() (string, error) {
	raw := strings.TrimRight(strings.TrimSpace(e.Getenv(PublicURLVar)), "/")
	if raw == "" {
		if rt, _ := runtime.Detect(e.Getenv); rt == runtime.ModeLocal {
			return "http://localhost:" + e.Port(), nil
		}
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname()))) {
		return "", errs.Configf(PublicURLVar, "%s must be an https URL with no query, such as https://idv.example.com (http only for localhost)", PublicURLVar)
	}
	return raw, nil
}

func loopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}
