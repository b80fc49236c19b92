// Command bench measures idverify against the minimal Go programs doing the
// same work, side by side on one machine, and prints each figure as a ratio
// to its peer with the target of issue 13:
//
//	go run ./scripts/bench               # 5 interleaved rounds
//	go run ./scripts/bench --quick       # 1 short round: does it all work?
//	go run ./scripts/bench --rounds 9 --json
//	go run ./scripts/bench --markdown    # the README's performance section
//
// What is built (into a temporary directory, removed at the end):
//
//   - the project's deploy binaries, by scripts/build.sh itself (DIST set to
//     the temporary directory): functions/id-card-verification for
//     lambda/arm64 (the size that is deployed) and lambda/amd64, and the SCF
//     builds of id-card-verification and liveness-compare (the binaries
//     that serve HTTP in a deployment, as SCF Web functions);
//   - the peers in scripts/bench/peers, with exactly the build settings
//     recorded in the project's binary (debug/buildinfo: tags, -trimpath,
//     -ldflags, CGO_ENABLED, GOOS, GOARCH, GOAMD64/GOARM64), so the flags
//     live in one place, scripts/build.sh: hellotc3 (aws-lambda-go plus one
//     tencentcloud-sdk-go CommonClient IdCardVerification call) and
//     signproxy (an httputil.ReverseProxy that signs TC3).
//
// What is measured, each round running idverify and its peer alternately
// (each pair alternates which side goes first), against a fake FaceID in
// this process that verifies every TC3 signature (tests/fakes/faceid):
//
//   - cold start: exec of the host-arch Lambda binary under a Lambda Runtime
//     API emulator → its POST of the response to one API Gateway HTTP API
//     (payload 2.0) IdCardVerification event, carrying a caller key;
//   - peak RSS of that process (the kernel's high-water mark, from wait4);
//   - warm throughput at c=32 for a fixed time and server CPU per request
//     (utime+stime from /proc/<pid>/stat): the SCF build of
//     id-card-verification as a local HTTP server (live, request logs on,
//     drained through a pipe) vs signproxy;
//   - peak RSS of a fresh liveness-compare server (and of a fresh
//     signproxy) while it answers 8 concurrent 6 MB LivenessCompare bodies.
//
// Medians over all samples; ratios are idverify's median over the peer's.
// Progress goes to stderr, the report to stdout. Timings are only as quiet
// as the machine: interleaving spreads its load over both sides.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	rounds      int
	quick       bool
	json        bool
	markdown    bool
	coldPer     int           // cold starts per side per round
	warm        time.Duration // load per side per round
	concurrency int
	bodies      int    // concurrent large bodies
	bodySize    int    // bytes per large body
	keep        string // keep the binaries in this directory
	from        string // print this saved --json report instead of measuring
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.IntVar(&o.rounds, "rounds", 0, "interleaved rounds (default 5, or 1 with --quick)")
	fs.BoolVar(&o.quick, "quick", false, "one short round: 2 cold starts a side, 1s of load")
	fs.BoolVar(&o.json, "json", false, "print the results as JSON")
	fs.BoolVar(&o.markdown, "markdown", false, "print the README's performance section")
	fs.IntVar(&o.coldPer, "cold", 0, "cold starts per side per round (default 4, or 2 with --quick)")
	fs.DurationVar(&o.warm, "warm", 0, "load per side per round (default 3s, or 1s with --quick)")
	fs.IntVar(&o.concurrency, "c", 32, "concurrent requests of the warm load")
	fs.IntVar(&o.bodies, "bodies", 8, "concurrent large LivenessCompare bodies")
	fs.IntVar(&o.bodySize, "body-size", 6_000_000, "bytes per large body")
	fs.StringVar(&o.keep, "keep", "", "build into this directory and keep it (default: a temporary one, removed)")
	fs.StringVar(&o.from, "from", "", "print the report saved by an earlier --json run instead of measuring (as a table, or with --markdown)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: go run ./scripts/bench [--rounds N] [--quick] [--json | --markdown]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.json && o.markdown {
		return nil, errors.New("--json and --markdown are exclusive")
	}
	def := func(v *int, normal, quick int) {
		if *v == 0 {
			*v = normal
			if o.quick {
				*v = quick
			}
		}
	}
	def(&o.rounds, 5, 1)
	def(&o.coldPer, 4, 2)
	if o.warm == 0 {
		o.warm = 3 * time.Second
		if o.quick {
			o.warm = time.Second
		}
	}
	switch {
	case o.rounds < 1 || o.coldPer < 1 || o.concurrency < 1 || o.bodies < 1:
		return nil, errors.New("--rounds, --cold, -c and --bodies must be at least 1")
	case o.warm < 100*time.Millisecond:
		return nil, errors.New("--warm must be at least 100ms")
	case o.bodySize < 1<<20 || o.bodySize > 11<<20:
		return nil, errors.New("--body-size must be between 1 MiB and 11 MiB (LivenessCompare's cap)")
	}
	return o, nil
}

func realMain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	if o.from != "" {
		rep, err := readReport(o.from)
		if err != nil {
			return err
		}
		return rep.write(o, stdout)
	}

	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir := o.keep
	if dir == "" {
		if dir, err = os.MkdirTemp("", "idv-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	m := machineInfo(ctx, root)
	logf("%d cores, %s, %s, load %s", m.Cores, m.GoVersion, m.CPU, m.LoadStart)
	bins, err := buildAll(ctx, root, dir, logf)
	if err != nil {
		return err
	}
	r, err := measure(ctx, o, bins, logf)
	if err != nil {
		return err
	}
	m.LoadEnd = loadAvg()
	return newReport(o, m, bins, r).write(o, stdout)
}

// machine describes where the figures come from.
type machine struct {
	Cores     int    `json:"cores"`
	GoVersion string `json:"goVersion"`
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPU       string `json:"cpu"`
	Kernel    string `json:"kernel"`
	LoadStart string `json:"loadStart"`
	LoadEnd   string `json:"loadEnd"`
	Commit    string `json:"commit"`
}

func machineInfo(ctx context.Context, root string) machine {
	m := machine{
		Cores: goruntime.NumCPU(), GOOS: goruntime.GOOS, GOARCH: goruntime.GOARCH,
		CPU: "unknown CPU", LoadStart: loadAvg(),
	}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		m.GoVersion = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	m.Commit = "unknown"
	cmd := exec.CommandContext(ctx, "git", "describe", "--always", "--dirty")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		m.Commit = strings.TrimSpace(string(out))
	}
	return m
}

// loadAvg is the 1-minute load average, or "?" off Linux.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the idverify module (go run ./scripts/bench)")
	}
	return filepath.Dir(mod), nil
}
