package tests

// The Tencent deploy with the real tooling against a fake cloud (issue 12):
// tests/scfdeploy/deploy.js runs what `scf deploy` does with the Serverless
// Cloud Framework's published packages (variable resolution, src hook, code
// zip) and the multi-scf component's steps with tencent-component-toolkit,
// cos-nodejs-sdk-v5 and adm-zip, and every Tencent Cloud connection goes to
// tests/fakes/tencentcloud, which checks signatures and records what arrives.
// The tests assert what the cloud would receive: every function once, with
// its configuration, an environment without "undefined", one Function URL,
// and a code zip whose bootstrap is an executable linux/amd64 ELF.

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idverify/idverify/tests/fakes/tencentcloud"
)

var scfTool struct {
	once sync.Once
	dir  string
	node string
	err  error
	skip string
}

// scfDeployTool installs tests/scfdeploy (npm ci from the committed lock,
// no install scripts) once per run, into its gitignored node_modules.
func scfDeployTool(t *testing.T) (node, dir string) {
	t.Helper()
	scfTool.once.Do(func() {
		node, err := exec.LookPath("node")
		if err != nil {
			scfTool.skip = "node is not installed: the SCF deploy test needs Node.js 18 or later and npm"
			return
		}
		npm, err := exec.LookPath("npm")
		if err != nil {
			scfTool.skip = "npm is not installed: the SCF deploy test installs the Serverless Cloud Framework packages with it"
			return
		}
		scfTool.node = node
		scfTool.dir, _ = filepath.Abs("scfdeploy")
		if _, err := os.Stat(filepath.Join(scfTool.dir, "node_modules", "tencent-component-toolkit", "package.json")); err == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts")
		cmd.Dir = scfTool.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			scfTool.err = fmt.Errorf("npm ci in tests/scfdeploy: %v\n%s", err, out)
		}
	})
	if scfTool.skip != "" {
		t.Skip(scfTool.skip)
	}
	if scfTool.err != nil {
		t.Fatal(scfTool.err)
	}
	return scfTool.node, scfTool.dir
}

// scfDeploySummary is what deploy.js prints.
type scfDeploySummary struct {
	OK       bool   `json:"ok"`
	Error    string `json:"error"`
	SrcBytes int64  `json:"srcBytes"`
	ZipBytes int64  `json:"zipBytes"`
	Bucket   string `json:"bucket"`
	Uploads  []struct {
		Function, Object string
		Bytes            int64
	} `json:"uploads"`
	Connections []string `json:"connections"`
}

type scfRun struct {
	summary scfDeploySummary
	stderr  string
	calls   []tencentcloud.Call
	elapsed time.Duration
}

var scfGoEnv = sync.OnceValue(func() []string {
	out, _ := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	f := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(f) != 3 {
		return nil
	}
	return []string{"GOCACHE=" + f[0], "GOMODCACHE=" + f[1], "GOPATH=" + f[2]}
})

// scfEnvRE finds ${env:NAME} references (the resolver's own pattern).
var scfEnvRE = regexp.MustCompile(`\$\{env:(\w*[\w.-_]+)\}`)

// scfDeployEnv is the environment a deploy runs in: this process's minus
// the variables in drop, every TENCENT_*, proxy and Node variable, PATH
// and DIST, then the Go caches, a fresh HOME, the fake cloud's address and
// CA, the CLI's credentials, and extra.
func scfDeployEnv(t *testing.T, fake *tencentcloud.Server, drop map[string]bool, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		up := strings.ToUpper(k)
		if drop[k] || strings.HasPrefix(up, "TENCENT") || strings.HasSuffix(up, "_PROXY") ||
			up == "NODE_OPTIONS" || up == "NODE_EXTRA_CA_CERTS" || up == "PATH" || up == "DIST" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, scfGoEnv()...)
	env = append(env,
		"PATH="+os.Getenv("PATH"),
		"HOME="+t.TempDir(),
		"SCFDEPLOY_FAKE_ADDR="+fake.Addr,
		"NODE_EXTRA_CA_CERTS="+fake.CAFile,
		"SERVERLESS_PLATFORM_STAGE=prod",
		"TENCENT_SECRET_ID="+tencentcloud.DefaultSecretID,
		"TENCENT_SECRET_KEY="+tencentcloud.DefaultSecretKey,
		"TENCENT_APP_ID="+fake.AppID(),
	)
	return append(env, extra...)
}

// lastLine is the last non-blank line of a deploy's stdout: deploy.js's
// JSON summary, after whatever the tools printed.
func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return bytes.TrimSpace(b)
}

// runSCFDeploy runs deploy.js on dir's serverless.yml against fake with this
// process's environment minus every variable the file references, every
// TENCENT_* and proxy variable, plus env (a value "\x00" means unset).
func runSCFDeploy(t *testing.T, fake *tencentcloud.Server, dir string, env map[string]string) scfRun {
	t.Helper()
	node, tool := scfDeployTool(t)
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	yml, err := os.ReadFile(filepath.Join(dir, "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	drop := map[string]bool{}
	for _, m := range scfEnvRE.FindAllStringSubmatch(string(yml), -1) {
		drop[m[1]] = true
	}
	cmdEnv := scfDeployEnv(t, fake, drop, "SCFDEPLOY_DOTENV=0")
	for k, v := range env {
		if v != "\x00" {
			cmdEnv = append(cmdEnv, k+"="+v)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "-r", filepath.Join(tool, "preload.js"), filepath.Join(tool, "deploy.js"), dir)
	cmd.Dir = tool
	cmd.Env = cmdEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	fake.ResetCalls()
	start := time.Now()
	runErr := cmd.Run()
	r := scfRun{stderr: stderr.String(), calls: fake.Calls(), elapsed: time.Since(start)}
	if err := json.Unmarshal(lastLine(stdout.Bytes()), &r.summary); err != nil {
		t.Fatalf("deploy.js printed no summary (%v): %v\nstdout:\n%s\nstderr:\n%s", runErr, err, stdout.String(), tail(stderr.String(), 4000))
	}
	if (runErr == nil) != r.summary.OK {
		t.Fatalf("deploy.js exit %v but ok=%v", runErr, r.summary.OK)
	}
	t.Logf("deploy.js on %s: ok=%v in %s, %d calls", dir, r.summary.OK, r.elapsed.Round(time.Millisecond), len(r.calls))
	if os.Getenv("SCFDEPLOY_TRACE") != "" {
		for _, c := range r.calls {
			t.Logf("  +%s %s %s %s %v", c.Time.Sub(start).Round(time.Millisecond), c.Service, c.Action, c.ErrorCode, c.Params)
		}
	}
	return r
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// scfActionCounts is "service Action" -> count.
func scfActionCounts(calls []tencentcloud.Call) map[string]int {
	m := map[string]int{}
	for _, c := range calls {
		m[c.Service+" "+c.Action]++
	}
	return m
}

// scfExpected is what serverless.yml asks for one function, computed here
// from the file (multi-scf: the function's keys over the common inputs).
type scfExpected struct {
	key, name, runtime, handler, role string
	memory, timeout, initTimeout      int
	env                               []struct{ key, value string }
}

func scfExpectations(t *testing.T, dir string) (fns []scfExpected, triggers []map[string]any, vars []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		App, Stage, Name string
		Inputs           map[string]any
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, m := range scfEnvRE.FindAllStringSubmatch(string(b), -1) {
		if !slices.Contains(vars, m[1]) {
			vars = append(vars, m[1])
		}
	}
	functions, _ := doc.Inputs["functions"].(map[string]any)
	var keys []string
	for k := range functions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	str := func(m map[string]any, k string) string {
		if v, ok := m[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	num := func(m map[string]any, k string) int {
		if v, ok := m[k].(int); ok {
			return v
		}
		return 0
	}
	for _, k := range keys {
		f, _ := functions[k].(map[string]any)
		merged := map[string]any{}
		for kk, v := range doc.Inputs {
			merged[kk] = v
		}
		for kk, v := range f {
			merged[kk] = v
		}
		e := scfExpected{key: k, name: str(merged, "name"), runtime: str(merged, "runtime"), handler: str(merged, "handler"),
			role: str(merged, "role"), memory: num(merged, "memorySize"), timeout: num(merged, "timeout"), initTimeout: num(merged, "initTimeout")}
		if e.name == "" {
			e.name = doc.Name + "-" + doc.Stage + "-" + doc.App + "-" + k
		}
		envs, _ := merged["environments"].([]any)
		for _, x := range envs {
			m, _ := x.(map[string]any)
			e.env = append(e.env, struct{ key, value string }{str(m, "key"), str(m, "value")})
		}
		fns = append(fns, e)
	}
	for _, x := range asList(doc.Inputs["triggers"]) {
		m, _ := x.(map[string]any)
		triggers = append(triggers, m)
	}
	return fns, triggers, vars
}

func asList(v any) []any { l, _ := v.([]any); return l }

// resolve substitutes ${env:X} as the deploy was given them; ok=false when
// a referenced variable was unset.
func scfResolve(v string, env map[string]string) (string, bool) {
	ok := true
	out := scfEnvRE.ReplaceAllStringFunc(v, func(m string) string {
		x, set := env[scfEnvRE.FindStringSubmatch(m)[1]]
		if !set || x == "\x00" {
			ok = false
			return ""
		}
		return x
	})
	return out, ok
}

// checkSCFDeployed asserts what the fake received for dir's serverless.yml
// deployed with env; wantMode is the bootstrap mode the zip must carry.
func checkSCFDeployed(t *testing.T, fake *tencentcloud.Server, dir string, env map[string]string, r scfRun) {
	t.Helper()
	if !r.summary.OK {
		t.Fatalf("deploy failed: %s\n%s", r.summary.Error, tail(r.stderr, 4000))
	}
	if u := fake.Unexpected(); len(u) > 0 {
		t.Errorf("the deploy made calls the fake does not model: %+v", u)
	}
	for _, c := range r.calls {
		switch {
		case c.ErrorCode == "":
		case c.Service == "scf" && c.Action == "GetFunction" && c.ErrorCode == "ResourceNotFound.Function":
		default:
			t.Errorf("call %s %s answered %s: %v", c.Service, c.Action, c.ErrorCode, c.Params)
		}
	}
	fns, triggers, _ := scfExpectations(t, dir)
	deployed := map[string]tencentcloud.Function{}
	for _, f := range fake.Functions() {
		deployed[f.Name] = f
	}
	if len(deployed) != len(fns) {
		t.Errorf("%d functions deployed, serverless.yml has %d", len(deployed), len(fns))
	}
	creates := map[string]int{}
	for _, c := range r.calls {
		if c.Service == "scf" && c.Action == "CreateFunction" && c.ErrorCode == "" {
			creates[fmt.Sprint(c.Params["FunctionName"])]++
		}
	}
	zips := map[string]bool{}
	for _, e := range fns {
		f, ok := deployed[e.name]
		if !ok {
			t.Errorf("%s (%s) was not created", e.key, e.name)
			continue
		}
		if creates[e.name] != 1 {
			t.Errorf("%s: CreateFunction %d times", e.name, creates[e.name])
		}
		if f.Runtime != e.runtime || f.Handler != e.handler || f.Role != e.role {
			t.Errorf("%s: runtime %q handler %q role %q, want %q %q %q", e.name, f.Runtime, f.Handler, f.Role, e.runtime, e.handler, e.role)
		}
		if (e.memory != 0 && f.MemorySize != e.memory) || (e.timeout != 0 && f.Timeout != e.timeout) || (e.initTimeout != 0 && f.InitTimeout != e.initTimeout) {
			t.Errorf("%s: memory %d timeout %d init %d, want %d %d %d", e.name, f.MemorySize, f.Timeout, f.InitTimeout, e.memory, e.timeout, e.initTimeout)
		}
		got := f.EnvMap()
		for k, v := range got {
			if strings.Contains(v, "undefined") {
				t.Errorf("%s: %s=%q", e.name, k, v)
			}
		}
		for _, ev := range e.env {
			want, set := scfResolve(ev.value, env)
			v, present := got[ev.key]
			switch {
			case set && (!present || v != want):
				t.Errorf("%s: %s=%q (present %v), want %q", e.name, ev.key, v, present, want)
			case !set && present && v != "":
				t.Errorf("%s: %s references an unset variable but arrived as %q", e.name, ev.key, v)
			}
		}
		var urls, timers []tencentcloud.Trigger
		for _, tr := range f.Triggers {
			switch tr.Type {
			case "http":
				urls = append(urls, tr)
			case "timer":
				timers = append(timers, tr)
			}
		}
		// Timers as serverless.yml asks: open (the toolkit creates one
		// CLOSE unless enable is true), the cron, and the argument SCF
		// delivers as the event's Message.
		var wantTimers []map[string]any
		for _, tr := range triggers {
			if tr["type"] == "timer" && tr["function"] == e.key {
				p, _ := tr["parameters"].(map[string]any)
				wantTimers = append(wantTimers, p)
			}
		}
		if len(timers) != len(wantTimers) {
			t.Errorf("%s: %d timers deployed, serverless.yml has %d", e.name, len(timers), len(wantTimers))
		} else {
			for i, w := range wantTimers {
				arg, _ := scfResolve(fmt.Sprint(w["argument"]), env)
				got := timers[i]
				if got.Name != fmt.Sprint(w["name"]) || got.Desc != fmt.Sprint(w["cronExpression"]) || got.Argument != arg || !got.Enabled {
					t.Errorf("%s: timer %+v, want %v (open)", e.name, got, w)
				}
			}
		}
		if len(urls) != 1 {
			t.Errorf("%s: %d Function URL triggers, want 1", e.name, len(urls))
		} else {
			var d struct {
				AuthType  string
				NetConfig struct{ EnableIntranet, EnableExtranet bool }
			}
			if err := json.Unmarshal([]byte(urls[0].Desc), &d); err != nil || d.AuthType != "NONE" || !d.NetConfig.EnableExtranet || !urls[0].Enabled {
				t.Errorf("%s: Function URL %+v (%v)", e.name, urls[0], err)
			}
		}
		// One check per distinct code object.
		if !zips[f.CodeObject] {
			zips[f.CodeObject] = true
			stored, ok := fake.Object(f.CodeBucket+"-"+fake.AppID(), f.CodeObject)
			if !ok || !bytes.Equal(stored, f.Code) {
				t.Errorf("%s: code object %s/%s not in the fake's COS or differs", e.name, f.CodeBucket, f.CodeObject)
			}
			checkBootstrap(t, e.name, f.Code, 0o755)
		}
	}
	for _, tr := range triggers {
		if tr["type"] != "http" && tr["type"] != "timer" {
			t.Errorf("serverless.yml trigger %v is neither a Function URL nor a timer", tr)
		}
	}
	t.Logf("%d functions, %d code zips (%d bytes uploaded from %d bytes of files), calls: %v",
		len(deployed), len(zips), r.summary.ZipBytes, r.summary.SrcBytes, scfActionCounts(r.calls))
}

// checkBootstrap asserts the zip has a bootstrap at its root with mode and
// that it is a linux/amd64 ELF.
func checkBootstrap(t *testing.T, name string, code []byte, mode os.FileMode) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(code), int64(len(code)))
	if err != nil {
		t.Errorf("%s: code is not a zip: %v", name, err)
		return
	}
	for _, zf := range zr.File {
		if zf.Name != "bootstrap" {
			continue
		}
		if m := zf.Mode(); !m.IsRegular() || m.Perm() != mode {
			t.Errorf("%s: bootstrap mode %v, want %v", name, m, mode)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		ef, err := elf.NewFile(bytes.NewReader(data))
		if err != nil || ef.Machine != elf.EM_X86_64 || ef.Class != elf.ELFCLASS64 || ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
			t.Errorf("%s: bootstrap is not a linux/amd64 executable (%v)", name, err)
		}
		return
	}
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	t.Errorf("%s: no bootstrap at the zip's root (%d entries: %v)", name, len(names), names[:min(len(names), 10)])
}

// nothingCreated asserts a refused deploy touched no cloud resource: the
// only calls allowed are the CLI's own account check (CAM GetUserAppId,
// which `scf deploy` makes at login, before it reads serverless.yml).
func nothingCreated(t *testing.T, r scfRun) {
	t.Helper()
	for _, c := range r.calls {
		if !(c.Service == "cam" && c.Action == "GetUserAppId") {
			t.Errorf("a refused deploy called %s %s %v", c.Service, c.Action, c.Params)
		}
	}
}

var scfELF struct {
	once sync.Once
	path string
	err  error
}

// scfBootstrapELF is a linux/amd64 build of functions/id-card-verification.
func scfBootstrapELF(t *testing.T) string {
	t.Helper()
	scfELF.once.Do(func() {
		scfELF.path = filepath.Join(binDir, "scf-bootstrap-linux-amd64")
		cmd := exec.Command("go", "build", "-trimpath", "-o", scfELF.path, "./functions/id-card-verification")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			scfELF.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if scfELF.err != nil {
		t.Fatal(scfELF.err)
	}
	return scfELF.path
}

// scfProject writes a project in a temporary directory: serverless.yml, and
// dist/scf/event/<fn>/bootstrap (mode 0755) for each function folder.
func scfProject(t *testing.T, yml string, files map[string]string, folders ...string) string {
	t.Helper()
	dir := t.TempDir()
	elfBytes, err := os.ReadFile(scfBootstrapELF(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range folders {
		p := filepath.Join(dir, "dist/scf/event", f, "bootstrap")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, elfBytes, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files["serverless.yml"] = yml
	for name, content := range files {
		p := filepath.Join(dir, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(scfBootstrapELF(t), filepath.Join(dir, "prebuilt-bootstrap")); err != nil {
		t.Fatal(err)
	}
	return dir
}

const scfTestCommon = `app: idverify
stage: prod
component: multi-scf
name: idverify
inputs:
%s
  region: ap-guangzhou
  namespace: default
  type: event
  runtime: CustomRuntime
  role: idverify-scf
  memorySize: 128
  timeout: 10
  initTimeout: 10
  environments:
    - key: IDV_ENV
      value: production
    - key: IDV_CALLERS
      value: "${env:IDV_CALLERS_REF}"
    - key: IDV_REDIS_URL
      value: "${env:IDV_REDIS_URL_REF}"
  functions:
    id-card-verification:
      name: idverify-id-card-verification
%s
    phone-verification:
      name: idverify-phone-verification
      memorySize: 256
      timeout: 25
%s
  triggers:
    - type: http
      function: id-card-verification
      parameters: {name: url, qualifier: $DEFAULT, authType: NONE, netConfig: {enableIntranet: false, enableExtranet: true}}
    - type: http
      function: phone-verification
      parameters: {name: url, qualifier: $DEFAULT, authType: NONE, netConfig: {enableIntranet: false, enableExtranet: true}}
`

// scfHookScript is the temporary project's build hook: it refuses to build
// when a referenced variable is unset (an optional one must be set, empty to
// leave it off), then copies the binary in as dist/scf/event/bootstrap.
const scfHookScript = `#!/bin/sh
set -eu
missing=""
[ -n "${IDV_CALLERS_REF:-}" ] || missing="$missing IDV_CALLERS_REF (required)"
[ -n "${IDV_REDIS_URL_REF+set}" ] || missing="$missing IDV_REDIS_URL_REF (optional: set it empty to leave it off)"
if [ -n "$missing" ]; then echo "deploy refused, not set:$missing" >&2; exit 1; fi
rm -rf dist/scf/event && mkdir -p dist/scf/event
cp prebuilt-bootstrap dist/scf/event/bootstrap && chmod 0755 dist/scf/event/bootstrap
`

// TestDeploySCFHookLayout is the layout issue 12 settles on: one code zip
// built by the src hook (bootstrap at its root, executable), no per-function
// src, handler = the function key; the hook refuses an unset variable before
// anything is created.
func TestDeploySCFHookLayout(t *testing.T) {
	yml := fmt.Sprintf(scfTestCommon,
		"  src: {src: ./, hook: sh scripts/build-scf.sh, dist: ./dist/scf/event}",
		"      handler: id-card-verification", "      handler: phone-verification")
	fake := tencentcloud.Start(t, tencentcloud.Options{})
	dir := scfProject(t, yml, map[string]string{"scripts/build-scf.sh": scfHookScript})

	t.Run("required unset", func(t *testing.T) {
		r := runSCFDeploy(t, fake, dir, map[string]string{"IDV_REDIS_URL_REF": ""})
		if r.summary.OK || !strings.Contains(r.summary.Error, "IDV_CALLERS_REF") || !strings.Contains(r.summary.Error, "src.hook") {
			t.Fatalf("deploy without IDV_CALLERS_REF: %+v", r.summary)
		}
		nothingCreated(t, r)
	})
	t.Run("optional unset", func(t *testing.T) {
		r := runSCFDeploy(t, fake, dir, map[string]string{"IDV_CALLERS_REF": "tcssm:idverify-callers?version=v1"})
		if r.summary.OK || !strings.Contains(r.summary.Error, "IDV_REDIS_URL_REF") {
			t.Fatalf("deploy without IDV_REDIS_URL_REF: %+v", r.summary)
		}
		nothingCreated(t, r)
	})
	t.Run("deployed", func(t *testing.T) {
		env := map[string]string{"IDV_CALLERS_REF": "tcssm:idverify-callers?version=v1", "IDV_REDIS_URL_REF": ""}
		r := runSCFDeploy(t, fake, dir, env)
		checkSCFDeployed(t, fake, dir, env, r)
		if len(r.summary.Uploads) != 1 || r.summary.Uploads[0].Function != "*" {
			t.Errorf("want the one code zip uploaded once for every function: %+v", r.summary.Uploads)
		}
		for _, f := range fake.Functions() {
			if v, ok := f.EnvMap()["IDV_REDIS_URL"]; ok && v != "" {
				t.Errorf("%s: IDV_REDIS_URL=%q", f.Name, v)
			}
		}
	})
}

// TestDeploySCFPerFunctionSrc keeps the reason for that layout proven: with a
// src per function the component re-zips each folder after adm-zip extracted
// it without its mode, so bootstrap arrives 0644 (not executable), and a
// ${env:X} left unset arrives as the text "undefined".
func TestDeploySCFPerFunctionSrc(t *testing.T) {
	yml := fmt.Sprintf(scfTestCommon, "  src: {src: ./dist/scf/event}",
		"      src: ./id-card-verification\n      handler: bootstrap", "      src: ./phone-verification\n      handler: bootstrap")
	fake := tencentcloud.Start(t, tencentcloud.Options{})
	dir := scfProject(t, yml, map[string]string{}, "id-card-verification", "phone-verification")
	r := runSCFDeploy(t, fake, dir, map[string]string{"IDV_CALLERS_REF": "tcssm:idverify-callers?version=v1"})
	if !r.summary.OK {
		t.Fatalf("deploy failed: %s\n%s", r.summary.Error, tail(r.stderr, 4000))
	}
	fns := fake.Functions()
	if len(fns) != 2 {
		t.Fatalf("%d functions", len(fns))
	}
	for _, f := range fns {
		checkBootstrap(t, f.Name, f.Code, 0o644)
		if v := f.EnvMap()["IDV_REDIS_URL"]; v != "undefined" {
			t.Errorf("%s: IDV_REDIS_URL=%q; the resolver's unset variable should have arrived as \"undefined\"", f.Name, v)
		}
		if v := f.EnvMap()["IDV_CALLERS"]; v != "tcssm:idverify-callers?version=v1" {
			t.Errorf("%s: IDV_CALLERS=%q", f.Name, v)
		}
	}
	if u := fake.Unexpected(); len(u) > 0 {
		t.Errorf("unexpected calls: %+v", u)
	}
}

// TestDeploySCFRepository deploys the repository's serverless.yml (its hook
// builds what is deployed). Every variable it references is first left
// unset: the deploy must refuse before creating anything and name one; that
// one is then set empty (an optional setting left off) or, if the deploy
// names it again, to a reference, until the deploy goes through with the
// least it accepts. That deploy and one with every variable set to a
// reference are checked in full.
func TestDeploySCFRepository(t *testing.T) {
	yml, err := os.ReadFile(filepath.Join(deployRoot, "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Inputs struct{ Src any } }
	_ = yaml.Unmarshal(yml, &doc)
	if src, _ := doc.Inputs.Src.(map[string]any); src == nil || src["hook"] == nil {
		t.Skip("serverless.yml has no inputs.src.hook yet: it predates the deploy layout of issue 12 (TestDeploySCFPerFunctionSrc shows why)")
	}
	_, _, vars := scfExpectations(t, deployRoot)
	refs := map[string]string{}
	for _, v := range vars {
		refs[v] = "tcssm:idverify-" + strings.ToLower(strings.ReplaceAll(v, "_", "-")) + "?version=v1"
	}
	// The flows' settings are a URL and JSON holding references: every
	// variable set means flows on, with the shared store and the store key.
	refs["IDV_PUBLIC_URL"] = "https://1250000000-abcd1234ef.ap-guangzhou.tencentscf.com"
	refs["IDV_WEBHOOKS"] = `[{"caller":"shop","url":"https://hooks.example.com/idv","secret":"tcssm:idverify-webhook?version=v1#secret"}]`
	// The encryption and accounting settings are values the functions
	// parse (the hook checks them as the functions do), keys on one line.
	for k, v := range settingValues() {
		if !slices.Contains(vars, k) {
			t.Fatalf("serverless.yml does not use ${env:%s}", k)
		}
		refs[k] = v
	}
	env := map[string]string{}
	var required, optional []string
	deployed := false
	for range 2*len(vars) + 1 {
		fake := tencentcloud.Start(t, tencentcloud.Options{})
		r := runSCFDeploy(t, fake, deployRoot, env)
		if r.summary.OK {
			t.Logf("required: %v; optional, set empty: %v", required, optional)
			checkSCFDeployed(t, fake, deployRoot, env, r)
			deployed = true
			break
		}
		nothingCreated(t, r)
		// Every variable the refusal names that is not yet set to a
		// reference: unset ones are set empty, empty ones it still names
		// are required.
		var named []string
		for _, v := range vars {
			if env[v] != refs[v] && strings.Contains(r.summary.Error, v) {
				named = append(named, v)
			}
		}
		if len(named) == 0 {
			t.Fatalf("the deploy failed, naming no variable it lacks (a failing build in the hook?): %s\n%s", r.summary.Error, tail(r.stderr, 4000))
		}
		for _, v := range named {
			if x, set := env[v]; set && x == "" {
				optional = slices.DeleteFunc(optional, func(s string) bool { return s == v })
				required = append(required, v)
				env[v] = refs[v]
			} else {
				optional = append(optional, v)
				env[v] = ""
			}
		}
	}
	if !deployed {
		t.Fatal("the deploy never went through")
	}
	fake := tencentcloud.Start(t, tencentcloud.Options{})
	r := runSCFDeploy(t, fake, deployRoot, refs)
	checkSCFDeployed(t, fake, deployRoot, refs, r)

	// A setting the functions would refuse stops the deploy in the hook,
	// named, before anything is created.
	bad := maps.Clone(refs)
	bad["IDV_BUDGETS"] = `{"*":{"day":-5}}`
	bad["IDV_FACEID_ENCRYPT"] = "AES-128-CBC"
	fake = tencentcloud.Start(t, tencentcloud.Options{})
	r = runSCFDeploy(t, fake, deployRoot, bad)
	if msg := r.summary.Error + r.stderr; r.summary.OK || !strings.Contains(msg, "IDV_BUDGETS[\"*\"]: day and month") || !strings.Contains(msg, "IDV_FACEID_ENCRYPT is not an algorithm") || strings.Contains(msg, "AES-128-CBC") {
		t.Errorf("a deploy with malformed IDV_BUDGETS and IDV_FACEID_ENCRYPT: ok=%v %s\n%s", r.summary.OK, r.summary.Error, tail(r.stderr, 3000))
	}
	nothingCreated(t, r)
}

// TestDeploySCFReadmeSteps follows the README's Tencent steps as written:
// the .env block of README.md beside serverless.yml, then
// `scripts/deploy tencent`, which checks, sets the unset optional variables
// empty and runs `scf deploy`. The CLI is played by deploy.js (the
// framework's own npm packages, the hook run as the CLI runs it) against
// the fake cloud.
func TestDeploySCFReadmeSteps(t *testing.T) {
	node, tool := scfDeployTool(t)
	root, err := filepath.Abs(deployRoot)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The first sh block after the Tencent heading is the .env file.
	section := string(readme)
	i := strings.Index(section, "### Tencent SCF")
	if i < 0 {
		t.Fatal("README.md has no \"### Tencent SCF\" section")
	}
	section = section[i:]
	start := strings.Index(section, "```sh\n")
	if start < 0 {
		t.Fatal("the Tencent section has no sh block")
	}
	block := section[start+len("```sh\n"):]
	block = block[:strings.Index(block, "```")]
	var dotenv strings.Builder
	want := map[string]string{}
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimSpace(line)
		dotenv.WriteString(line + "\n")
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			want[k] = strings.Trim(v, "'\"")
		}
	}
	if want["IDV_CALLERS_REF"] == "" {
		t.Fatalf("the README's .env block sets no IDV_CALLERS_REF:\n%s", block)
	}

	// A checkout of its own: the repository's files, its own .env and dist.
	dir := t.TempDir()
	for _, name := range []string{"serverless.yml", "go.mod", "go.sum", "scripts", "functions", "shared", "events"} {
		if err := os.Symlink(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dotenv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	shim := "#!/bin/sh\n[ \"$1\" = deploy ] || { echo \"scf shim: only deploy, not $*\" >&2; exit 2; }\n" +
		"exec \"$SCF_SHIM_NODE\" -r \"$SCF_SHIM_TOOL/preload.js\" \"$SCF_SHIM_TOOL/deploy.js\" \"$PWD\"\n"
	if err := os.WriteFile(filepath.Join(bin, "scf"), []byte(shim), 0o755); err != nil {
		t.Fatal(err)
	}

	_, _, vars := scfExpectations(t, root)
	expect := map[string]string{}
	for _, v := range vars {
		expect[v] = want[v] // unset in .env: deployed empty
	}
	fake := tencentcloud.Start(t, tencentcloud.Options{})
	drop := map[string]bool{}
	for v := range expect {
		drop[v] = true
	}
	// PATH last: the shim's directory first.
	cmdEnv := scfDeployEnv(t, fake, drop,
		"SCF_SHIM_NODE="+node, "SCF_SHIM_TOOL="+tool,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, "scripts", "deploy"), "tencent")
	cmd.Dir = dir
	cmd.Env = cmdEnv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	fake.ResetCalls()
	started := time.Now()
	runErr := cmd.Run()
	r := scfRun{stderr: stderr.String(), calls: fake.Calls(), elapsed: time.Since(started)}
	if err := json.Unmarshal(lastLine(stdout.Bytes()), &r.summary); err != nil || runErr != nil {
		t.Fatalf("scripts/deploy tencent: %v (summary: %v)\nstdout:\n%s\nstderr:\n%s", runErr, err, tail(stdout.String(), 2000), tail(stderr.String(), 4000))
	}
	for _, v := range vars {
		if _, inFile := want[v]; !inFile && !strings.Contains(r.stderr, "note: "+v+" is unset: deployed empty") {
			t.Errorf("scripts/deploy tencent does not say that %s is deployed empty:\n%s", v, tail(r.stderr, 3000))
		}
	}
	t.Logf("README steps: deployed in %s, %d calls", r.elapsed.Round(time.Millisecond), len(r.calls))
	checkSCFDeployed(t, fake, dir, expect, r)
}
