package secrets

import (
	"encoding/base64"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Reference schemes.
const (
	AWSKMS = "awskms" // AWS KMS ciphertext
	AWSSM  = "awssm"  // AWS Secrets Manager secret
	AWSSSM = "awsssm" // AWS Systems Manager Parameter Store SecureString
	TCKMS  = "tckms"  // Tencent Cloud KMS ciphertext
	TCSSM  = "tcssm"  // Tencent Cloud Secrets Manager (SSM) secret
)

// Clouds, as named by the build tags that leave their backend out.
const (
	CloudAWS     = "aws"
	CloudTencent = "tencent"
)

type schemeInfo struct {
	cloud   string
	what    string          // for messages
	options map[string]bool // allowed query keys besides ctx.*
	context bool            // ctx.* allowed (KMS)
	base64  bool            // target is a base64 ciphertext
	need    []string        // query keys that must be present
}

var schemes = map[string]schemeInfo{
	AWSKMS: {cloud: CloudAWS, what: "AWS KMS ciphertext", options: set("region"), context: true, base64: true},
	AWSSM:  {cloud: CloudAWS, what: "AWS Secrets Manager secret", options: set("region", "version", "stage")},
	AWSSSM: {cloud: CloudAWS, what: "AWS SSM parameter", options: set("region")},
	TCKMS:  {cloud: CloudTencent, what: "Tencent KMS ciphertext", options: set("region"), context: true, base64: true},
	// VersionId is required by Tencent's GetSecretValue; making it required
	// here turns a missing version into a clear message at parse time
	// instead of a confusing ResourceNotFound from the service.
	TCSSM: {cloud: CloudTencent, what: "Tencent SSM secret", options: set("region", "version"), need: []string{"version"}},
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// Schemes lists the reference schemes, sorted.
func Schemes() []string { return slices.Sorted(maps.Keys(schemes)) }

// CloudOf is the cloud ("aws" or "tencent") a scheme belongs to, "" if the
// scheme is unknown.
func CloudOf(scheme string) string { return schemes[scheme].cloud }

// Ref is a parsed secret reference.
type Ref struct {
	Scheme string
	// Target is what the backend is asked for: the base64 ciphertext
	// (awskms, tckms), the secret id or ARN (awssm), the parameter name
	// (awsssm) or the secret name (tcssm).
	Target  string
	Region  string            // overrides the platform's region when set
	Version string            // awssm VersionId, tcssm VersionId
	Stage   string            // awssm VersionStage
	Context map[string]string // KMS encryption context
	JSONKey string            // field of a JSON object value, "" for the whole value
}

// IsRef reports whether s is meant as a reference: it starts with one of the
// known "<scheme>:" prefixes. It says nothing about whether it parses.
func IsRef(s string) bool {
	scheme, _, ok := strings.Cut(s, ":")
	_, known := schemes[scheme]
	return ok && known
}

// SchemeOf is the scheme of a reference, "" for a plain value.
func SchemeOf(s string) string {
	if !IsRef(s) {
		return ""
	}
	scheme, _, _ := strings.Cut(s, ":")
	return scheme
}

// ParseRef parses a reference. Errors are *Error of class malformed; their
// text never repeats the input, which may be a mistyped secret.
func ParseRef(s string) (Ref, error) {
	scheme, rest, ok := strings.Cut(s, ":")
	info, known := schemes[scheme]
	if !ok || !known {
		// An unknown "scheme" is caller text (maybe the secret itself,
		// mistyped): never put it in the error.
		return Ref{}, malformed("", "not a reference: want one of %s followed by ':'", strings.Join(Schemes(), ", "))
	}
	r := Ref{Scheme: scheme}
	rest, key, hasKey := strings.Cut(rest, "#")
	if hasKey {
		if key == "" {
			return Ref{}, malformed(scheme, "empty JSON key after '#'")
		}
		r.JSONKey = key
	}
	target, query, hasQuery := strings.Cut(rest, "?")
	if target == "" {
		return Ref{}, malformed(scheme, "nothing after %q: want the %s", scheme+":", info.what)
	}
	if strings.TrimSpace(target) != target {
		return Ref{}, malformed(scheme, "leading or trailing space in the %s", info.what)
	}
	r.Target = target
	if info.base64 {
		b, err := base64.StdEncoding.DecodeString(target)
		if err != nil || len(b) == 0 {
			return Ref{}, malformed(scheme, "the ciphertext is not standard base64")
		}
	}
	if hasQuery {
		q, err := url.ParseQuery(query)
		if err != nil {
			return Ref{}, malformed(scheme, "the part after '?' is not a URL query")
		}
		for k, vs := range q {
			if len(vs) != 1 {
				return Ref{}, malformed(scheme, "option %q given more than once", k)
			}
			v := vs[0]
			if ck, isCtx := strings.CutPrefix(k, "ctx."); isCtx {
				if !info.context {
					return Ref{}, malformed(scheme, "%s references take no encryption context", scheme)
				}
				if ck == "" {
					return Ref{}, malformed(scheme, "empty encryption context key")
				}
				if r.Context == nil {
					r.Context = map[string]string{}
				}
				r.Context[ck] = v
				continue
			}
			if !info.options[k] {
				return Ref{}, malformed(scheme, "unknown option %q (allowed: %s)", k, allowed(info))
			}
			if v == "" {
				return Ref{}, malformed(scheme, "option %q is empty", k)
			}
			switch k {
			case "region":
				r.Region = v
			case "version":
				r.Version = v
			case "stage":
				r.Stage = v
			}
		}
	}
	for _, k := range info.need {
		if k == "version" && r.Version == "" {
			return Ref{}, malformed(scheme, "%s references need ?version=<VersionId> (SSM_Current for rotated cloud-product credentials)", scheme)
		}
	}
	if r.Version != "" && r.Stage != "" {
		return Ref{}, malformed(scheme, "give version or stage, not both")
	}
	return r, nil
}

func allowed(info schemeInfo) string {
	keys := slices.Sorted(maps.Keys(info.options))
	if info.context {
		keys = append(keys, "ctx.<name>")
	}
	return strings.Join(keys, ", ")
}

// String is the canonical text of r, which ParseRef reads back. Query keys
// are sorted so equal references have equal text.
func (r Ref) String() string {
	s := r.source()
	if r.JSONKey != "" {
		s += "#" + r.JSONKey
	}
	return s
}

// source is the reference without its JSON key: what one backend call
// fetches. Variables that differ only in the key share one call.
func (r Ref) source() string {
	q := url.Values{}
	if r.Region != "" {
		q.Set("region", r.Region)
	}
	if r.Version != "" {
		q.Set("version", r.Version)
	}
	if r.Stage != "" {
		q.Set("stage", r.Stage)
	}
	for k, v := range r.Context {
		q.Set("ctx."+k, v)
	}
	s := r.Scheme + ":" + r.Target
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// Ciphertext is the decoded ciphertext of a KMS reference.
func (r Ref) Ciphertext() ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(r.Target)
	if err != nil {
		return nil, malformed(r.Scheme, "the ciphertext is not standard base64")
	}
	return b, nil
}

func malformed(scheme, format string, args ...any) *Error {
	return &Error{Scheme: scheme, Class: Malformed, Detail: fmt.Sprintf(format, args...)}
}
