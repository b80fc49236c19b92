package runtimes

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a function binary started by a test.
type Process struct {
	Cmd     *exec.Cmd
	Started time.Time

	out  LockedBuffer // stdout and stderr, interleaved
	done chan struct{}
	err  error // Wait's result, valid after done
}

// StartProcess starts bin with a clean environment (PATH, HOME, TMPDIR only,
// so the test machine's AWS_* or PORT cannot change the detected runtime)
// plus env, and kills it when the test ends. Its output goes to the test log
// if the test fails.
func StartProcess(t testing.TB, bin string, env []string, args ...string) *Process {
	t.Helper()
	p := &Process{Cmd: exec.Command(bin, args...), done: make(chan struct{})}
	p.Cmd.Env = append(baseEnv(), env...)
	p.Cmd.Stdout = &p.out
	p.Cmd.Stderr = &p.out
	p.Started = time.Now()
	if err := p.Cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("output of %s:\n%s", bin, p.Output())
		}
	})
	return p
}

func baseEnv() []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Output is everything the process wrote so far.
func (p *Process) Output() string { return p.out.String() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for the process to end and returns its exit code
// (-1 when it was killed by a signal or did not end in time).
func (p *Process) Wait(timeout time.Duration) (code int, exited bool) {
	select {
	case <-p.done:
	case <-time.After(timeout):
		return -1, false
	}
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0, true
	case errors.As(p.err, &ee):
		return ee.ExitCode(), true
	}
	return -1, true
}

// Signal sends sig to the process (by its pid; nothing else is touched).
func (p *Process) Signal(sig syscall.Signal) error { return p.Cmd.Process.Signal(sig) }

// Kill ends the process if it is still running: SIGTERM, then SIGKILL after
// two seconds.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = p.Signal(syscall.SIGTERM)
	if _, ok := p.Wait(2 * time.Second); !ok {
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// LockedBuffer is a bytes.Buffer safe for concurrent writers (a process's
// two output streams, a logger used by several goroutines).
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var _ io.Writer = (*LockedBuffer)(nil)
