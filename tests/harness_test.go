package tests

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/tests/runtimes"
)

// binDir holds binaries built once per test run.
var (
	binDir  string
	binOnce sync.Map // package path -> *sync.Once
	binErr  sync.Map
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// The black-box tests build and drive real binaries (and npm
		// packages): scripts/test.sh runs them; --quick (-short) does not.
		fmt.Println("skipped in -short mode: black-box tests of the real binaries")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "idv-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	runtimes.Cleanup()
	os.Exit(code)
}

// buildBinary builds ./functions/<name> the way scripts/build.sh does (minus
// cross-compilation) and returns its path; each binary is built once.
func buildBinary(t *testing.T, name string) string {
	t.Helper()
	return buildBinaryTags(t, name, "lambda.norpc,idv_scfgo1")
}

// buildBinaryTags builds ./functions/<name> with the given build tags, as a
// platform build does (scripts/build.sh: lambda adds idv_no_tencent,idv_lambda).
func buildBinaryTags(t *testing.T, name, tags string) string {
	t.Helper()
	key := name
	if tags != "lambda.norpc,idv_scfgo1" {
		key = name + "-" + strings.NewReplacer(",", "-", ".", "-").Replace(tags)
	}
	out := filepath.Join(binDir, key)
	once, _ := binOnce.LoadOrStore(key, new(sync.Once))
	once.(*sync.Once).Do(func() {
		cmd := exec.Command("go", "build", "-trimpath", "-tags", tags, "-o", out, "./functions/"+name)
		cmd.Dir = ".."
		if b, err := cmd.CombinedOutput(); err != nil {
			binErr.Store(key, fmt.Errorf("go build %s: %v\n%s", name, err, b))
		}
	})
	if err, ok := binErr.Load(key); ok {
		t.Fatal(err)
	}
	return out
}

// server is a function binary running as a local HTTP server.
type server struct {
	cmd    *exec.Cmd
	url    string
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan error
}

func (s *server) logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// logsOnceAll waits up to five seconds for every server's logs together to
// satisfy ok and returns them: a line the server wrote before answering may
// still be in the pipe when the answer arrives.
func logsOnceAll(ok func(string) bool, ss ...*server) string {
	var logs string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		logs = ""
		for _, s := range ss {
			logs += s.logs()
		}
		if ok(logs) || time.Now().After(deadline) {
			return logs
		}
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// startServer runs bin with a clean environment plus env, and waits until
// it answers /healthz.
func startServer(t *testing.T, bin string, env ...string) *server {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORT=" + port}, env...)
	s := &server{cmd: cmd, url: "http://127.0.0.1:" + port, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		select {
		case err := <-s.done:
			s.done <- err // for Cleanup's wait
			t.Fatalf("%s exited early: %v\n%s", filepath.Base(bin), err, s.logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not become ready\n%s", filepath.Base(bin), s.logs())
	return nil
}

// assertNoPII fails when any of the values appears in the captured output.
func assertNoPII(t *testing.T, output string, values ...string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(output, v) {
			t.Errorf("personal data %q appears in the output", v)
		}
	}
}

// execCommand runs bin with a clean environment plus env.
func execCommand(bin string, env ...string) *exec.Cmd {
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}, env...)
	return cmd
}

// jsonLines keeps the structured log lines of a process's output.
func jsonLines(out string) string {
	var b strings.Builder
	lines := strings.Split(out, "\n")
	// The last element is empty or a line still being copied from the pipe.
	for _, l := range lines[:len(lines)-1] {
		if strings.HasPrefix(l, "{") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
