package runtimes

import (
	"context"
	"fmt"
	"net"
	"net/rpc"
	"strconv"
	"sync"
	"testing"
	"time"
)

// The SCF Go1 wire messages, written independently of shared/runtime/scfgo1
// from the field list in reference/scf-and-lambda-runtimes.md §1.1: gob
// matches fields by name, so if the function's structs drifted from the
// protocol these would stop matching and the tests would fail.
type (
	Go1PingRequest  struct{}
	Go1PingResponse struct{}
	Go1Timestamp    struct {
		Seconds int64
		Nanos   int64
	}
	Go1InvokeRequest struct {
		Payload               []byte
		RequestId             string
		TraceId               string
		Deadline              Go1Timestamp
		InvokedFunctionUnique string
		ClientContext         []byte
		Namespace             string
		FunctionName          string
		FunctionVersion       string
		MemoryLimitInMb       int32
		TimeLimitInMs         int32
		Environment           string
		TencentcloudRegion    string
		TencentcloudAppID     string
		TencentcloudUin       string
		FunctionTrace         string
	}
	Go1InvokeResponse struct {
		Payload []byte
		Error   *Go1Error
	}
	Go1Error struct {
		Message    string
		Type       string
		StackTrace []*Go1StackFrame
		ShouldExit bool
	}
	Go1StackFrame struct {
		Path  string
		Line  int32
		Label string
	}
)

// Go1Client plays the SCF Go1 host: it dials the function's
// _LAMBDA_SERVER_PORT and calls Function.Ping and Function.Invoke.
type Go1Client struct {
	Addr string
	Proc *Process // set by StartGo1
	RPC  *rpc.Client

	// Template is copied into every Invoke request (Payload, RequestId and
	// Deadline are then set per call).
	Template Go1InvokeRequest

	mu        sync.Mutex
	seq       int
	coldStart time.Duration
}

// StartGo1 starts bin as an SCF Go1 function on a free loopback port and
// waits until Function.Ping answers.
func StartGo1(t testing.TB, bin string, env ...string) *Go1Client {
	t.Helper()
	port := FreePort(t)
	c := &Go1Client{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Template: Go1InvokeRequest{
			Namespace: "default", FunctionName: "idverify-test", FunctionVersion: "$LATEST",
			InvokedFunctionUnique: "qcs::scf:ap-guangzhou:uin/100000000001:lam/lam-abcdefgh/default/idverify-test/$LATEST",
			MemoryLimitInMb:       256, TencentcloudRegion: "ap-guangzhou",
			TencentcloudAppID: "1250000000", TencentcloudUin: "100000000001",
		},
	}
	c.Proc = StartProcess(t, bin, append([]string{
		"_LAMBDA_SERVER_PORT=" + strconv.Itoa(port),
		"_SCF_SERVER_PORT=28902",
		"TENCENTCLOUD_RUNENV=SCF",
		"FUNCTION_NAME=idverify-test",
		"FUNCTION_MEMORY_SIZE=256",
		"FUNCTION_VERSION=$LATEST",
	}, env...))
	waitFor(t, 10*time.Second, func() bool {
		if c.Proc.Exited() {
			return true
		}
		cl, err := ping(c.Addr)
		if err != nil {
			return false
		}
		c.coldStart = time.Since(c.Proc.Started)
		c.RPC = cl
		return true
	}, "Function.Ping")
	if c.RPC == nil {
		t.Fatalf("function exited before answering Ping:\n%s", c.Proc.Output())
	}
	t.Cleanup(func() { c.RPC.Close() })
	return c
}

// DialGo1 connects to a Go1 function already listening on addr (for
// in-process tests of the RPC server), waiting until Ping answers.
func DialGo1(t testing.TB, addr string) *Go1Client {
	t.Helper()
	c := &Go1Client{Addr: addr}
	waitFor(t, 5*time.Second, func() bool {
		cl, err := ping(addr)
		c.RPC = cl
		return err == nil
	}, "Function.Ping")
	t.Cleanup(func() { c.RPC.Close() })
	return c
}

func ping(addr string) (*rpc.Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
	if err != nil {
		return nil, err
	}
	cl := rpc.NewClient(conn)
	if err := cl.Call("Function.Ping", &Go1PingRequest{}, &Go1PingResponse{}); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// ColdStart is the time from process start to the first answered Ping.
func (c *Go1Client) ColdStart() time.Duration { return c.coldStart }

// Ping calls Function.Ping.
func (c *Go1Client) Ping() error {
	return c.RPC.Call("Function.Ping", &Go1PingRequest{}, &Go1PingResponse{})
}

// Call sends req as it is and returns the raw response.
func (c *Go1Client) Call(ctx context.Context, req *Go1InvokeRequest) (*Go1InvokeResponse, error) {
	var resp Go1InvokeResponse
	call := c.RPC.Go("Function.Invoke", req, &resp, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		return &resp, call.Error
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Invoke sends payload with a deadline timeout from now.
func (c *Go1Client) Invoke(ctx context.Context, payload []byte, timeout time.Duration) (*Outcome, error) {
	c.mu.Lock()
	c.seq++
	req := c.Template
	req.RequestId = fmt.Sprintf("9e8d7c6b-0000-4000-a000-%012d", c.seq)
	c.mu.Unlock()
	deadline := time.Now().Add(timeout)
	req.Payload = payload
	req.Deadline = Go1Timestamp{Seconds: deadline.Unix(), Nanos: int64(deadline.Nanosecond())}
	req.TimeLimitInMs = int32(timeout.Milliseconds())
	start := time.Now()
	resp, err := c.Call(ctx, &req)
	if err != nil {
		return nil, err
	}
	o := &Outcome{RequestID: req.RequestId, Deadline: deadline, Payload: resp.Payload, Elapsed: time.Since(start)}
	if resp.Error != nil {
		o.Payload = nil
		o.Failure = &Failure{Type: resp.Error.Type, Message: resp.Error.Message, ShouldExit: resp.Error.ShouldExit}
	}
	return o, nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
