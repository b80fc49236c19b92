package secrets

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseRef: whatever parses is a reference of a known scheme whose
// canonical text parses back to the same Ref (so resolution and caching by
// String are stable); whatever fails is a malformed *Error that does not
// repeat the input, which may be a mistyped secret.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"awskms:AQICAHg=?region=eu-west-1&ctx.app=idv#key",
		"awssm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:idv-AbCdEf?stage=AWSCURRENT#TENCENT_SECRET_KEY",
		"awsssm:/idv/callers?region=ap-east-1",
		"tckms:Y2lwaGVydGV4dA==?ctx.fn=faceid",
		"tcssm:idv-provider?version=SSM_Current&region=ap-guangzhou#SecretKey",
		"tcssm:idv-provider",
		"awssm:x?version=1&stage=y",
		"plain-secret-value",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Class != Malformed {
				t.Fatalf("error %T %v is not a malformed *Error", err, err)
			}
			// Callers parse only what IsRef recognises. (For a plain value
			// without ':' the message names the whole value as the scheme.)
			if IsRef(s) && len(s) >= 16 && strings.Contains(err.Error(), s) {
				t.Fatalf("error repeats the input: %v", err)
			}
			return
		}
		if !IsRef(s) || SchemeOf(s) != r.Scheme || CloudOf(r.Scheme) == "" {
			t.Fatalf("parsed %q but IsRef=%v SchemeOf=%q", s, IsRef(s), SchemeOf(s))
		}
		if r.Target == "" || strings.TrimSpace(r.Target) != r.Target {
			t.Fatalf("accepted target %q", r.Target)
		}
		if r.Version != "" && r.Stage != "" {
			t.Fatalf("accepted both version and stage")
		}
		back, err := ParseRef(r.String())
		if err != nil {
			t.Fatalf("canonical text %q of %q does not parse: %v", r.String(), s, err)
		}
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip changed the reference:\n in  %q %+v\n out %q %+v", s, r, r.String(), back)
		}
		if back.String() != r.String() {
			t.Fatalf("canonical text is not stable: %q then %q", r.String(), back.String())
		}
	})
}
