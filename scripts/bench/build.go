package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strings"
	"time"
)

// binaries are what one run measures.
type binaries struct {
	// The project's, as scripts/build.sh builds them.
	LambdaArm64 string // id-card-verification, lambda/arm64 (deployed size)
	LambdaAmd64 string // id-card-verification, lambda/amd64
	LambdaHost  string // the one of the two this machine runs
	ServerIDC   string // id-card-verification as an HTTP server (SCF build on amd64)
	ServerLC    string // liveness-compare as an HTTP server
	ServerNote  string // which build the servers are

	// The peers, with the settings read from the project's binaries.
	HelloArm64, HelloAmd64, HelloHost string
	Proxy                             string

	// Settings is how the Lambda arm64 binary was built (from its buildinfo).
	Settings buildSettings
}

// buildSettings are the flags and environment of one go build, as
// debug/buildinfo records them.
type buildSettings struct {
	Tags     string            `json:"tags"`
	Trimpath bool              `json:"trimpath"`
	Ldflags  string            `json:"ldflags"`
	Env      map[string]string `json:"env"`             // CGO_ENABLED, GOOS, GOARCH, GOAMD64/GOARM64
	Other    []string          `json:"other,omitempty"` // -gcflags, -asmflags and their values
}

// readSettings reads the build settings recorded in bin. The linker flags
// are not recorded in a -trimpath build (go.dev/issue/52372): those come
// from scriptLdflags, and checkLinkedAlike confirms them afterwards.
func readSettings(bin, scriptLdflags string) (buildSettings, error) {
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		return buildSettings{}, fmt.Errorf("%s: %v", bin, err)
	}
	s := buildSettings{Env: map[string]string{}}
	for _, kv := range info.Settings {
		switch kv.Key {
		case "-tags":
			s.Tags = kv.Value
		case "-trimpath":
			s.Trimpath = kv.Value == "true"
		case "-ldflags":
			s.Ldflags = kv.Value
		case "CGO_ENABLED", "GOOS", "GOARCH", "GOAMD64", "GOARM64", "GOARM", "GO386":
			s.Env[kv.Key] = kv.Value
		case "-gcflags", "-asmflags":
			s.Other = append(s.Other, kv.Key, kv.Value)
		case "-buildmode", "-compiler", "-race", "-msan", "-asan", "-pgo":
			if want := map[string]string{"-buildmode": "exe", "-compiler": "gc"}[kv.Key]; kv.Value != want {
				return s, fmt.Errorf("%s: built with %s=%s, which bench does not reproduce", bin, kv.Key, kv.Value)
			}
		}
	}
	if s.Ldflags == "" {
		s.Ldflags = scriptLdflags
	}
	if s.Env["GOOS"] == "" || s.Env["GOARCH"] == "" {
		return s, fmt.Errorf("%s: no GOOS/GOARCH in its build info", bin)
	}
	return s, nil
}

// goBuild builds pkg into out with settings s: the same flags, tags and
// environment as the binary s was read from.
func goBuild(ctx context.Context, root, pkg, out string, s buildSettings) error {
	args := []string{"build", "-buildvcs=false"}
	if s.Trimpath {
		args = append(args, "-trimpath")
	}
	if s.Tags != "" {
		args = append(args, "-tags", s.Tags)
	}
	if s.Ldflags != "" {
		args = append(args, "-ldflags", s.Ldflags)
	}
	args = append(args, s.Other...)
	args = append(args, "-o", out, pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	for k, v := range s.Env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

// buildScript runs scripts/build.sh with DIST=dist.
func buildScript(ctx context.Context, root, dist string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "build.sh"), args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DIST="+dist)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("scripts/build.sh %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

func buildAll(ctx context.Context, root, dir string, logf func(string, ...any)) (*binaries, error) {
	host := goruntime.GOARCH
	if goruntime.GOOS != "linux" || (host != "amd64" && host != "arm64") {
		return nil, fmt.Errorf("bench runs the Linux binaries it builds: it needs linux/amd64 or linux/arm64, not %s/%s", goruntime.GOOS, host)
	}
	dist := filepath.Join(dir, "dist")
	b := &binaries{}
	bin := func(target, name string) string { return filepath.Join(dist, "bin", target, name) }

	t0 := time.Now()
	logf("building id-card-verification for lambda arm64 and amd64 with scripts/build.sh ...")
	if err := buildScript(ctx, root, dist, "--platform", "lambda", "id-card-verification"); err != nil {
		return nil, err
	}
	b.LambdaArm64, b.LambdaAmd64 = bin("lambda_arm64", "id-card-verification"), bin("lambda_amd64", "id-card-verification")
	b.LambdaHost = map[string]string{"amd64": b.LambdaAmd64, "arm64": b.LambdaArm64}[host]

	// The HTTP servers: what a deployment serves HTTP with is the SCF Web
	// function, built for amd64 only; on an arm64 machine the Lambda
	// build, run as a local server, stands in.
	if host == "amd64" {
		logf("building id-card-verification and liveness-compare for scf amd64 with scripts/build.sh ...")
		if err := buildScript(ctx, root, dist, "--platform", "scf", "id-card-verification", "liveness-compare"); err != nil {
			return nil, err
		}
		b.ServerIDC, b.ServerLC = bin("scf_amd64", "id-card-verification"), bin("scf_amd64", "liveness-compare")
		b.ServerNote = "the SCF amd64 build (the Web function's binary) run as a local server"
	} else {
		logf("building liveness-compare for lambda arm64 with scripts/build.sh ...")
		if err := buildScript(ctx, root, dist, "--platform", "lambda", "--arch", "arm64", "liveness-compare"); err != nil {
			return nil, err
		}
		b.ServerIDC, b.ServerLC = b.LambdaArm64, bin("lambda_arm64", "liveness-compare")
		b.ServerNote = "the Lambda arm64 build run as a local server (SCF builds are amd64 only)"
	}

	ldflags, err := scriptLdflags(root)
	if err != nil {
		return nil, err
	}
	peers := filepath.Join(dir, "peers")
	for _, p := range []struct {
		from, pkg string
		out       *string
	}{
		{b.LambdaArm64, "./scripts/bench/peers/hellotc3", &b.HelloArm64},
		{b.LambdaAmd64, "./scripts/bench/peers/hellotc3", &b.HelloAmd64},
		{b.ServerIDC, "./scripts/bench/peers/signproxy", &b.Proxy},
	} {
		s, err := readSettings(p.from, ldflags)
		if err != nil {
			return nil, err
		}
		if p.from == b.LambdaArm64 {
			b.Settings = s
		}
		*p.out = filepath.Join(peers, s.Env["GOOS"]+"_"+s.Env["GOARCH"], filepath.Base(p.pkg))
		logf("building %s like %s (-tags %s, ldflags %q) ...", p.pkg, rel(dir, p.from), s.Tags, s.Ldflags)
		if err := goBuild(ctx, root, p.pkg, *p.out, s); err != nil {
			return nil, err
		}
		if err := checkLinkedAlike(p.from, *p.out); err != nil {
			return nil, err
		}
	}
	b.HelloHost = map[string]string{"amd64": b.HelloAmd64, "arm64": b.HelloArm64}[host]
	logf("built in %.1fs", time.Since(t0).Seconds())
	return b, nil
}

func rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return r
	}
	return p
}

func fileSize(p string) int64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// ldflagsRE finds the linker flags of a go build line in scripts/build.sh.
var ldflagsRE = regexp.MustCompile(`-ldflags[ =]"([^"]*)"`)

// scriptLdflags reads the -ldflags of scripts/build.sh: there must be
// exactly one, outside comments, and a literal.
func scriptLdflags(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "scripts", "build.sh"))
	if err != nil {
		return "", err
	}
	var found []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range ldflagsRE.FindAllStringSubmatch(line, -1) {
			found = append(found, m[1])
		}
	}
	if len(found) != 1 || strings.ContainsAny(found[0], "$`\\") {
		return "", fmt.Errorf("scripts/build.sh: want one literal -ldflags \"...\" to build the peers with, found %q", found)
	}
	return found[0], nil
}

// linkShape is what the usual linker flags change in an ELF binary:
// -s (symbol table), -w (DWARF), -buildid= (the Go build ID note).
type linkShape struct{ Symtab, DWARF, BuildID bool }

func shapeOf(bin string) (linkShape, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return linkShape{}, err
	}
	defer f.Close()
	var sh linkShape
	for _, sec := range f.Sections {
		switch {
		case sec.Name == ".symtab":
			sh.Symtab = true
		case strings.HasPrefix(sec.Name, ".debug_"), strings.HasPrefix(sec.Name, ".zdebug_"):
			sh.DWARF = true
		case sec.Name == ".note.go.buildid":
			// A note: namesz, descsz, type, "Go\0\0", then the ID.
			if d, err := sec.Data(); err == nil && len(d) > 16 && len(bytes.Trim(d[16:], "\x00")) > 0 {
				sh.BuildID = true
			}
		}
	}
	return sh, nil
}

// checkLinkedAlike fails when peer was linked differently from project
// (say build.sh's linker flags changed in a way scriptLdflags missed).
func checkLinkedAlike(project, peer string) error {
	a, err := shapeOf(project)
	if err != nil {
		return err
	}
	b, err := shapeOf(peer)
	if err != nil {
		return err
	}
	if a != b {
		return fmt.Errorf("%s is linked %+v but the peer %s %+v: the peers' flags no longer match scripts/build.sh", project, a, peer, b)
	}
	return nil
}
