package callers

import (
	"context"
	"net/http"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// FuzzParse: no configuration panics, and whatever parses has callers
// that each hold a credential and at least one action.
func FuzzParse(f *testing.F) {
	f.Add([]byte(testConfig()))
	f.Add([]byte(`[{"id":"p","secretId":"AKID1","secretKey":"tckms:Y2lwaGVy?region=ap-guangzhou&ctx.caller=p","actions":["*"]}]`))
	f.Add([]byte(`[{"id":"w","keySha256":"` + hashHex("k") + `","actions":["faceprint/result/getall"],"rate":{"perSecond":1e-9,"burst":0}}]`))
	f.Add([]byte(`[{"id":"x"}] [`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		if len(s.callers) == 0 {
			t.Fatal("parsed with no callers")
		}
		for _, c := range s.callers {
			if !c.hasHash && c.secretID == "" {
				t.Fatalf("caller %q has no credential", c.id)
			}
			if len(c.actions) == 0 {
				t.Fatalf("caller %q has no actions", c.id)
			}
			if c.rate < 0 || (c.rate > 0 && c.burst < 1) {
				t.Fatalf("caller %q: rate %v burst %d", c.id, c.rate, c.burst)
			}
		}
	})
}

// FuzzAuthenticate feeds arbitrary Authorization and TC3 headers: no
// panic, every failure is Unauthorized or Forbidden, and success only ever
// names a configured caller allowed the action.
func FuzzAuthenticate(f *testing.F) {
	s := testSet(f)
	f.Add("Bearer "+webKey, "", "IdCardVerification")
	f.Add(webKey, "", "faceAdv")
	f.Add("TC3-HMAC-SHA256 Credential="+partnerID+"/2024-01-01/faceid/tc3_request, SignedHeaders=content-type;host, Signature="+hashHex("x"), "1704067200", "IdCardVerification")
	f.Add("TC3-HMAC-SHA256 Credential=/, SignedHeaders=;, Signature=", "+1", "")
	f.Add("bearer\t", "", "*")
	f.Fuzz(func(t *testing.T, auth, ts, action string) {
		h := http.Header{}
		h.Set("Authorization", auth)
		h.Set("X-TC-Timestamp", ts)
		h.Set("Content-Type", "application/json")
		h.Set("Host", "faceid.example.com")
		req := &gateway.Request{Method: http.MethodPost, Path: "/", Header: h, Body: []byte(`{}`)}
		c, err := s.Authenticate(context.Background(), req, action)
		if err != nil {
			if k := errs.KindOf(err); k != errs.Unauthorized && k != errs.Forbidden {
				t.Fatalf("error kind %v: %v", k, err)
			}
			return
		}
		for _, cc := range s.callers {
			if cc.id == c.ID {
				if !cc.allows(action) {
					t.Fatalf("caller %s let through for %q", c.ID, action)
				}
				return
			}
		}
		t.Fatalf("unknown caller %+v", c)
	})
}
