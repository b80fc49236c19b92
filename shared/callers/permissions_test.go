package callers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"testing"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

// "usage" is a permission each caller must be given by name: "*" (every
// provider action) does not read every caller's usage.
func TestUsagePermissionIsNotInAll(t *testing.T) {
	hash := func(k string) string { s := sha256.Sum256([]byte(k)); return hex.EncodeToString(s[:]) }
	s, err := Parse([]byte(`[{"id":"all","keySha256":"` + hash("key-all") + `","actions":["*"]},` +
		`{"id":"ops","keySha256":"` + hash("key-ops") + `","actions":["*","usage"]}]`))
	if err != nil {
		t.Fatal(err)
	}
	auth := func(key, action string) error {
		_, err := s.Authenticate(context.Background(), &gateway.Request{Header: http.Header{"Authorization": {"Bearer " + key}}}, action)
		return err
	}
	if err := auth("key-all", "IdCardVerification"); err != nil {
		t.Fatal(err)
	}
	if err := auth("key-all", "usage"); errs.KindOf(err) != errs.Forbidden {
		t.Fatalf(`"*" reads usage: %v`, err)
	}
	if auth("key-ops", "usage") != nil || auth("key-ops", "faceAdv") != nil {
		t.Fatal(`"*" with "usage"`)
	}
	if _, err := Parse([]byte(`[{"id":"x","keySha256":"` + hash("k") + `","actions":["*","IdCardVerification"]}]`)); err == nil {
		t.Fatal(`"*" with another action accepted`)
	}
}
