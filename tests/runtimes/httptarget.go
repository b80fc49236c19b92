package runtimes

import (
	"net"
	"strconv"
	"testing"
	"time"
)

// HTTPTarget is a function serving plain HTTP: an SCF Web function or the
// local server.
type HTTPTarget struct {
	URL  string // http://127.0.0.1:<port>
	Proc *Process

	coldStart time.Duration
}

// ColdStart is the time from process start until the port accepted a
// connection.
func (h *HTTPTarget) ColdStart() time.Duration { return h.coldStart }

// StartWeb starts bin as an SCF Web function, detected the way the platform
// would be (TENCENTCLOUD_RUNENV=SCF, no runtime API variables), listening on
// a free port instead of 9000 through IDV_WEB_PORT.
func StartWeb(t testing.TB, bin string, env ...string) *HTTPTarget {
	t.Helper()
	port := FreePort(t)
	return startHTTP(t, bin, port, append([]string{
		"TENCENTCLOUD_RUNENV=SCF", "IDV_WEB_PORT=" + strconv.Itoa(port), "SCF_FUNCTIONNAME=idverify-test",
	}, env...))
}

// StartLocal starts bin with no platform variables, the local server, on a
// free port given as PORT.
func StartLocal(t testing.TB, bin string, env ...string) *HTTPTarget {
	t.Helper()
	port := FreePort(t)
	return startHTTP(t, bin, port, append([]string{"PORT=" + strconv.Itoa(port)}, env...))
}

func startHTTP(t testing.TB, bin string, port int, env []string) *HTTPTarget {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	h := &HTTPTarget{URL: "http://" + addr}
	h.Proc = StartProcess(t, bin, env)
	waitFor(t, 10*time.Second, func() bool {
		if h.Proc.Exited() {
			return true
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		h.coldStart = time.Since(h.Proc.Started)
		return true
	}, "port "+addr)
	if h.coldStart == 0 {
		t.Fatalf("function exited before listening:\n%s", h.Proc.Output())
	}
	return h
}
