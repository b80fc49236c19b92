package scfgo1

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"github.com/idverify/idverify/shared/faceidapi"
	"io"
	"log/slog"
	"net"
	"net/rpc"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/service"
)

func fuzzFunction(t testing.TB) *Function {
	t.Helper()
	g, err := faceidapi.New(faceidapi.Options{
		Service: &service.Service{Provider: sandbox.New(sandbox.Options{})},
		Mode:    "sandbox",
		Auth:    gateway.SandboxOpen{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &Function{base: context.Background(), h: g, log: slog.New(slog.DiscardHandler)}
}

func gobBytes(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// normal makes empty slices nil: gob does not send zero values, so an empty
// slice that a foreign encoder sent explicitly comes back as nil.
func normal(r InvokeRequest) InvokeRequest {
	if len(r.Payload) == 0 {
		r.Payload = nil
	}
	if len(r.ClientContext) == 0 {
		r.ClientContext = nil
	}
	return r
}

// FuzzGobInvokeRequest decodes arbitrary bytes as the SCF host's gob-encoded
// InvokeRequest and runs what decodes through Function.Invoke with a
// sandbox-backed gateway. Properties: a decoded request re-encodes to itself;
// Invoke always returns nil (failures travel in the reply) and sets exactly
// one of Payload and Error; no input makes the adapter ask the host to
// replace the instance, which is what its panic guard does.
//
// Environment is cleared before Invoke: the host uses it to set the
// process's variables, and a fuzzer must not rewrite PATH or HOME of the
// test binary. applyEnvironment's JSON is fuzzed on its own input instead.
func FuzzGobInvokeRequest(f *testing.F) {
	files, _ := filepath.Glob("../../../events/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(gobBytes(f, &InvokeRequest{Payload: b, RequestId: "req-1", MemoryLimitInMb: 128, TimeLimitInMs: 3000}))
	}
	f.Add(gobBytes(f, &InvokeRequest{Payload: []byte(`{"Action":"IdCardVerification","IdCard":"110101199003074477","Name":"张三"}`),
		Deadline: InvokeRequest_Timestamp{Seconds: 1, Nanos: 5}, Environment: `{"A":"b"}`}))
	f.Add([]byte{})
	fn := fuzzFunction(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var req InvokeRequest
		if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&req); err != nil {
			return
		}
		var again InvokeRequest
		if err := gob.NewDecoder(bytes.NewReader(gobBytes(t, &req))).Decode(&again); err != nil {
			t.Fatalf("re-decoding a decoded request: %v", err)
		}
		if !reflect.DeepEqual(normal(again), normal(req)) {
			t.Fatalf("gob round trip changed the request:\n%+v\n%+v", req, again)
		}
		req.Environment = ""
		// A deadline in the past is a valid input (the call times out at
		// once); one far in the future must not make the run wait.
		if req.Deadline.Seconds > time.Now().Add(time.Minute).Unix() {
			req.Deadline = InvokeRequest_Timestamp{}
		}
		var resp InvokeResponse
		if err := fn.Invoke(&req, &resp); err != nil {
			t.Fatalf("Invoke returned %v; failures belong in the reply", err)
		}
		if (resp.Error == nil) == (resp.Payload == nil) {
			t.Fatalf("reply has payload %q and error %+v: want exactly one", resp.Payload, resp.Error)
		}
		if resp.Error != nil && (resp.Error.ShouldExit || resp.Error.Type == "") {
			t.Fatalf("reply error %+v", resp.Error)
		}
	})
}

// FuzzRPCStream feeds arbitrary bytes to the net/rpc server as the host's
// connection: the server must neither panic nor hang, and must close the
// connection on garbage rather than wait for more.
func FuzzRPCStream(f *testing.F) {
	var valid bytes.Buffer
	enc := gob.NewEncoder(&valid)
	_ = enc.Encode(&rpc.Request{ServiceMethod: "Function.Ping", Seq: 1})
	_ = enc.Encode(&PingRequest{})
	f.Add(valid.Bytes())
	valid.Reset()
	_ = enc.Encode(&rpc.Request{ServiceMethod: "Function.Invoke", Seq: 2})
	_ = enc.Encode(&InvokeRequest{Payload: []byte(`{"Action":"GetLiveCode"}`)})
	f.Add(valid.Bytes())
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	fn := fuzzFunction(f)
	srv := rpc.NewServer()
	if err := srv.RegisterName("Function", fn); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte("Environment")) {
			return // see FuzzGobInvokeRequest
		}
		client, server := net.Pipe()
		done := make(chan struct{})
		go func() { srv.ServeConn(server); close(done) }()
		go func() {
			_, _ = client.Write(data)
			// The host hangs up; the server must notice and return.
			_ = client.Close()
		}()
		go func() { _, _ = io.Copy(io.Discard, client) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("ServeConn did not return after the client closed")
		}
	})
}

// FuzzApplyEnvironment: only a JSON object of strings is applied, and every
// key it sets afterwards holds its value. Keys are confined to a prefix so
// the fuzzer cannot change the test's own environment.
func FuzzApplyEnvironment(f *testing.F) {
	f.Add(`{"IDV_FUZZ_A":"1","IDV_FUZZ_B":""}`)
	f.Add(`{"IDV_FUZZ_A":1}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, raw string) {
		var env map[string]string
		if json.Unmarshal([]byte(raw), &env) != nil {
			if applyEnvironment(raw) == nil && raw != "" {
				t.Fatalf("applied malformed environment %q", raw)
			}
			return
		}
		for k := range env {
			if len(k) < 9 || k[:9] != "IDV_FUZZ_" {
				return
			}
		}
		err := applyEnvironment(raw)
		if err != nil {
			return // e.g. a key with '=' or NUL, which Setenv refuses
		}
		for k, v := range env {
			if k != "" && os.Getenv(k) != v {
				t.Fatalf("%s = %q after applying %q", k, os.Getenv(k), v)
			}
		}
	})
}
