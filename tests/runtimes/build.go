package runtimes

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Build compiles pkg (an import path, or a path relative to the module root
// such as "./functions/all") the way deployments build it: static, with
// -tags lambda.norpc,idv_scfgo1 (every protocol linked). The binary lives in a directory shared by the whole
// test process (each package is built once) and removed by Cleanup.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := built[pkg]; ok {
		return bin
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "idverify-runtimes-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	bin := filepath.Join(buildDir, fmt.Sprintf("fn%d-%s", len(built), filepath.Base(pkg)))
	if err := BuildTo(bin, pkg); err != nil {
		t.Fatal(err)
	}
	built[pkg] = bin
	return bin
}

// Cleanup removes what Build produced; call it from TestMain after m.Run.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	buildDir, built = "", map[string]string{}
}

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// BuildTo compiles pkg into the file bin.
func BuildTo(bin, pkg string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc,idv_scfgo1", "-trimpath", "-o", bin, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return nil
}

// moduleRoot is the directory of go.mod above the working directory.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}
