package faceidapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/idverify/idverify/shared/callers"
	"github.com/idverify/idverify/shared/faceidapi"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/logging"
	"github.com/idverify/idverify/shared/service"
	"github.com/idverify/idverify/shared/tencent"
	fake "github.com/idverify/idverify/tests/fakes/faceid"
)

// The warm request path as scripts/bench drives it, in one process: a live
// FaceID contract (the Tencent provider against the fake FaceID, which
// verifies every TC3 signature), a caller key, request logs on, the body
// read by the pipeline from a reader of its declared length. The fake's own
// work is in the figures too; compare runs, not absolute numbers.
//
//	go test ./shared/faceidapi -run '^$' -bench . -benchmem -cpuprofile cpu.out
const benchKey = "idvk_0123456789abcdef0123456789abcdef0123456789abcdef"

func benchPipeline(b *testing.B, log io.Writer) *gateway.Pipeline {
	b.Helper()
	_, url := fake.Start(b, fake.Options{})
	p, err := tencent.New(tencent.Config{Endpoint: url, SecretID: fake.DefaultSecretID, SecretKey: fake.DefaultSecretKey})
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte(benchKey))
	set, err := callers.Parse(fmt.Appendf(nil, `[{"id":"bench","keySha256":"%x","actions":["IdCardVerification","LivenessCompare"]}]`, sum))
	if err != nil {
		b.Fatal(err)
	}
	c, err := faceidapi.NewContract(faceidapi.Options{Service: &service.Service{Provider: p}, Mode: "live"})
	if err != nil {
		b.Fatal(err)
	}
	pl, err := gateway.New(gateway.Options{Contracts: []gateway.Contract{c}, Auth: set, Logger: logging.New(log, slog.LevelInfo)})
	if err != nil {
		b.Fatal(err)
	}
	return pl
}

func benchRequest(action string, body []byte) *gateway.Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Authorization", "Bearer "+benchKey)
	return &gateway.Request{
		Method: http.MethodPost, Path: "/v1/faceid/" + action, Header: h,
		BodyReader: bytes.NewReader(body), ContentLength: int64(len(body)), SourceIP: "127.0.0.1",
	}
}

func serveOK(b *testing.B, pl *gateway.Pipeline, action string, body []byte) {
	resp := pl.ServeRequest(context.Background(), benchRequest(action, body))
	if resp.Status != http.StatusOK || bytes.Contains(resp.Body, []byte(`"Error"`)) {
		b.Fatalf("HTTP %d %.300s", resp.Status, resp.Body)
	}
}

// BenchmarkWarmIdCardVerification is one small paid call end to end.
func BenchmarkWarmIdCardVerification(b *testing.B) {
	pl := benchPipeline(b, io.Discard)
	body := []byte(`{"IdCard":"440304198506121230","Name":"李四"}`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serveOK(b, pl, "IdCardVerification", body)
		}
	})
}

// BenchmarkLargeLivenessCompare is a 6 MB body end to end: B/op shows how
// many times the body is copied on its way through.
func BenchmarkLargeLivenessCompare(b *testing.B) {
	pl := benchPipeline(b, io.Discard)
	body := livenessBody(6_000_000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		serveOK(b, pl, "LivenessCompare", body)
	}
}

// livenessBody is scripts/bench's LivenessCompare request of about size
// bytes.
func livenessBody(size int) []byte {
	rng := rand.NewChaCha8([32]byte{'i', 'd', 'v'})
	media := func(encoded int) string {
		raw := make([]byte, encoded/4*3)
		_, _ = rng.Read(raw)
		return base64.StdEncoding.EncodeToString(raw)
	}
	img := min(size/3, 3<<20-4)
	vid := size - img - 100
	return []byte(`{"LivenessType":"SILENT","ImageBase64":"` + media(img) + `","VideoBase64":"` + media(vid) + `"}`)
}

// BenchmarkLargeInvoke is the same 6 MB body as a direct invocation (a
// Step Functions task), with its "Action" member: B/op shows how many
// times the payload is copied before the contract reads it.
func BenchmarkLargeInvoke(b *testing.B) {
	pl := benchPipeline(b, io.Discard)
	body := livenessBody(6_000_000)
	payload := append([]byte(`{"Action":"LivenessCompare",`), body[1:]...)
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if out, err := pl.Invoke(context.Background(), payload); err != nil || bytes.Contains(out, []byte(`"Error"`)) {
			b.Fatalf("%v %.300s", err, out)
		}
	}
}
