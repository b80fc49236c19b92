package secrets

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	ok := []struct {
		in   string
		want Ref
	}{
		{"awskms:AQIDBA==", Ref{Scheme: AWSKMS, Target: "AQIDBA=="}},
		{"awskms:AQIDBA==?region=eu-west-1&ctx.app=idverify&ctx.var=A%3DB#k", Ref{Scheme: AWSKMS, Target: "AQIDBA==", Region: "eu-west-1",
			Context: map[string]string{"app": "idverify", "var": "A=B"}, JSONKey: "k"}},
		{"awssm:idverify/provider#SecretKey", Ref{Scheme: AWSSM, Target: "idverify/provider", JSONKey: "SecretKey"}},
		{"awssm:arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf?stage=AWSPREVIOUS", Ref{Scheme: AWSSM,
			Target: "arn:aws:secretsmanager:us-east-1:1:secret:x-AbCdEf", Stage: "AWSPREVIOUS"}},
		{"awsssm:/idverify/prod/key", Ref{Scheme: AWSSSM, Target: "/idverify/prod/key"}},
		{"tckms:AQIDBA==?region=ap-guangzhou", Ref{Scheme: TCKMS, Target: "AQIDBA==", Region: "ap-guangzhou"}},
		{"tcssm:idverify-provider?version=v1#SecretKey", Ref{Scheme: TCSSM, Target: "idverify-provider", Version: "v1", JSONKey: "SecretKey"}},
	}
	for _, c := range ok {
		got, err := ParseRef(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got.String() != c.want.String() {
			t.Errorf("%s: got %s, want %s", c.in, got, c.want)
		}
		again, err := ParseRef(got.String())
		if err != nil || again.String() != got.String() {
			t.Errorf("%s: String() does not round-trip: %s, %v", c.in, got, err)
		}
	}

	bad := []string{
		"awskms:",                  // empty
		"awskms:not base64!",       // bad ciphertext
		"awskms:AQIDBA==?regoin=x", // typo in option
		"awskms:AQIDBA==?ctx.=x",   // empty context key
		"awskms:AQIDBA==?region=a&region=b",
		"awskms:AQIDBA==#", // empty key
		"awssm:x?ctx.a=b",  // no context for Secrets Manager
		"awssm:x?version=1&stage=AWSCURRENT",
		"awsssm:/p?version=1", // not an SSM option
		"tcssm:name",          // version required
		"tcssm:name?version=", // empty option
		"awssm: spaced",       // stray space
	}
	for _, in := range bad {
		_, err := ParseRef(in)
		var e *Error
		if !errors.As(err, &e) || e.Class != Malformed {
			t.Errorf("%q: err = %v, want malformed", in, err)
		}
	}
}

// TestParseErrorNeverQuotesInput: a reference may be a secret pasted into
// the wrong place; the error must not print it.
func TestParseErrorNeverQuotesInput(t *testing.T) {
	for _, in := range []string{"awskms:s3cr3t-value!", "tcssm:s3cr3t-value", "awssm:s3cr3t-value?x=1"} {
		_, err := ParseRef(in)
		if err == nil {
			t.Fatalf("%q parsed", in)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Fatalf("error quotes the input: %v", err)
		}
	}
}

func TestIsRef(t *testing.T) {
	for in, want := range map[string]bool{
		"awskms:x": true, "tcssm:x": true, "plain": false, "https://example.com": false, "AWSKMS:x": false, "": false, "awskms": false,
	} {
		if IsRef(in) != want {
			t.Errorf("IsRef(%q) = %v", in, !want)
		}
	}
}

func TestParseRefNeverEchoesAnUnknownScheme(t *testing.T) {
	for _, in := range []string{"plain-secret-value", "s3cr3t:with-colon", "AWSKMS:upper"} {
		_, err := ParseRef(in)
		if err == nil {
			t.Fatalf("%q parsed", in)
		}
		head, _, _ := strings.Cut(in, ":")
		if strings.Contains(err.Error(), head) {
			t.Errorf("error repeats the input: %v", err)
		}
	}
}
