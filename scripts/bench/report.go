package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"
)

// row is one line of the table: a figure of idverify's, its peer's, and
// the target for their ratio.
type row struct {
	What     string  `json:"what"`
	Unit     string  `json:"unit"`
	IDV      float64 `json:"idverify"`
	Peer     float64 `json:"peer"`
	PeerName string  `json:"peerName"`
	Ratio    float64 `json:"ratio"`
	// Target: the ratio must be at most Target (AtLeast false) or at
	// least it (AtLeast true). Zero means no target (information only).
	Target  float64 `json:"target,omitempty"`
	AtLeast bool    `json:"atLeast,omitempty"`
	Met     *bool   `json:"met,omitempty"`
	// Ranges of the samples behind each median (min, max) and how many.
	IDVRange  [2]float64 `json:"idverifyRange"`
	PeerRange [2]float64 `json:"peerRange"`
	Samples   int        `json:"samples"`
	// The samples in the order they were taken; the i-th of each side
	// ran next to each other, and PairedRatio is the median of their
	// ratios (less sensitive to the machine's load drifting over a run).
	IDVSamples  []float64 `json:"idverifySamples"`
	PeerSamples []float64 `json:"peerSamples"`
	PairedRatio float64   `json:"pairedRatio"`
}

type report struct {
	Machine machine       `json:"machine"`
	Rounds  int           `json:"rounds"`
	Options reportOptions `json:"options"`
	Rows    []row         `json:"rows"`
	Built   builtInfo     `json:"built"`
	Warm    warmInfo      `json:"warm"`
	AllMet  bool          `json:"allMet"`
}

type reportOptions struct {
	ColdPerRound int     `json:"coldStartsPerSidePerRound"`
	WarmSeconds  float64 `json:"warmSecondsPerSidePerRound"`
	Concurrency  int     `json:"concurrency"`
	Bodies       int     `json:"bodies"`
	BodyBytes    int     `json:"bodyBytes"`
}

type builtInfo struct {
	Settings buildSettings `json:"lambdaArm64Settings"`
	Servers  string        `json:"servers"`
}

type warmInfo struct {
	Requests           [2]int  `json:"requests"`
	Errors             [2]int  `json:"errors"`
	LogBytesPerRequest float64 `json:"idverifyLogBytesPerRequest"`
	FakeCalls          int     `json:"fakeFaceIDCalls"`
}

func newReport(o *options, m machine, b *binaries, r *results) *report {
	rep := &report{
		Machine: m, Rounds: o.rounds,
		Options: reportOptions{o.coldPer, o.warm.Seconds(), o.concurrency, o.bodies, o.bodySize},
		Built:   builtInfo{Settings: b.Settings, Servers: b.ServerNote},
		Warm:    warmInfo{r.WarmRequests, r.WarmErrors, r.LogBytesPerRequest, r.FakeCalls},
		AllMet:  true,
	}
	const MiB = 1 << 20
	add := func(what, unit, peer string, idv, pr []float64, target float64, atLeast bool) {
		x := row{What: what, Unit: unit, PeerName: peer, Target: target, AtLeast: atLeast,
			IDV: median(idv), Peer: median(pr), Samples: min(len(idv), len(pr)),
			IDVRange: span(idv), PeerRange: span(pr), IDVSamples: idv, PeerSamples: pr}
		var ratios []float64
		for i := range x.Samples {
			if pr[i] != 0 {
				ratios = append(ratios, idv[i]/pr[i])
			}
		}
		x.PairedRatio = median(ratios)
		if x.Peer != 0 {
			x.Ratio = x.IDV / x.Peer
		}
		if target != 0 {
			met := x.Ratio <= target
			if atLeast {
				met = x.Ratio >= target
			}
			x.Met = &met
			rep.AllMet = rep.AllMet && met
		}
		rep.Rows = append(rep.Rows, x)
	}
	size := func(p string) []float64 { return []float64{float64(fileSize(p)) / MiB} }
	add("Lambda binary, id-card-verification, linux/arm64", "MiB", "hellotc3",
		size(b.LambdaArm64), size(b.HelloArm64), 1.25, false)
	add("Lambda binary, id-card-verification, linux/amd64", "MiB", "hellotc3",
		size(b.LambdaAmd64), size(b.HelloAmd64), 0, false)
	add("cold start, process start → one signed call answered", "ms", "hellotc3",
		durs(r.ColdIDV), durs(r.ColdPeer), 1.15, false)
	add("peak RSS of that cold invocation", "MiB", "hellotc3",
		scale(r.ColdRSSIDV, MiB), scale(r.ColdRSSPeer, MiB), 1.2, false)
	add(fmt.Sprintf("warm throughput, local server, live, c=%d, request logs on", o.concurrency), "req/s", "signproxy",
		r.TputIDV, r.TputPeer, 0.9, true)
	add("server CPU per request", "µs", "signproxy", r.CPUIDV, r.CPUPeer, 1.3, false)
	add(fmt.Sprintf("%d concurrent %.0f MB LivenessCompare bodies, peak RSS", o.bodies, float64(o.bodySize)/1e6), "MiB", "signproxy",
		scale(r.BodyRSSIDV, MiB), scale(r.BodyRSSPeer, MiB), 1.2, false)
	return rep
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func span(xs []float64) [2]float64 {
	if len(xs) == 0 {
		return [2]float64{}
	}
	return [2]float64{slices.Min(xs), slices.Max(xs)}
}

func durs(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

func scale(xs []int64, unit float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x) / unit
	}
	return out
}

func medianDur(ds []time.Duration) time.Duration {
	return time.Duration(median(durs(ds)) * float64(time.Millisecond))
}

func median64(xs []int64) int64 { return int64(median(scale(xs, 1))) }

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
func mib(b int64) string        { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// value formats a figure in its unit.
func value(v float64, unit string) string {
	switch unit {
	case "MiB":
		return fmt.Sprintf("%.2f MiB", v)
	case "ms":
		return fmt.Sprintf("%.1f ms", v)
	case "req/s":
		return fmt.Sprintf("%.0f req/s", v)
	case "µs":
		return fmt.Sprintf("%.0f µs", v)
	}
	return fmt.Sprintf("%g %s", v, unit)
}

// cell is a median with the range of its samples when there are several.
func cell(v float64, r [2]float64, n int, unit string) string {
	if n < 2 || r[0] == r[1] {
		return value(v, unit)
	}
	lo, hi := value(r[0], unit), value(r[1], unit)
	return fmt.Sprintf("%s (%s–%s)", value(v, unit), strings.Fields(lo)[0], strings.Fields(hi)[0])
}

// ratio is the ratio of the medians, and the median of the paired ratios
// when that differs (the machine's load drifted during the run).
func (x row) ratio() string {
	r := fmt.Sprintf("%.2f×", x.Ratio)
	if x.Samples > 1 && x.PairedRatio != 0 && fmt.Sprintf("%.2f", x.PairedRatio) != fmt.Sprintf("%.2f", x.Ratio) {
		r += fmt.Sprintf(" (paired %.2f×)", x.PairedRatio)
	}
	return r
}

func (x row) target() string {
	if x.Target == 0 {
		return "(information)"
	}
	if x.AtLeast {
		return fmt.Sprintf("≥ %.2g×", x.Target)
	}
	return fmt.Sprintf("≤ %.3g×", x.Target)
}

func (x row) verdict() string {
	switch {
	case x.Met == nil:
		return ""
	case *x.Met:
		return "met"
	}
	return "NOT MET"
}

func (x row) cells() []string {
	return []string{
		x.What,
		cell(x.IDV, x.IDVRange, x.Samples, x.Unit),
		x.PeerName + " " + cell(x.Peer, x.PeerRange, x.Samples, x.Unit),
		x.ratio(),
		x.target(),
		x.verdict(),
	}
}

var header = []string{"what", "idverify", "peer", "ratio", "target", ""}

func (rep *report) writeTable(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, x := range rep.Rows {
		fmt.Fprintln(tw, strings.Join(x.cells(), "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, rep.summary())
}

func (rep *report) summary() string {
	m := rep.Machine
	met, total := 0, 0
	for _, x := range rep.Rows {
		if x.Met != nil {
			total++
			if *x.Met {
				met++
			}
		}
	}
	commit := ""
	if m.Commit != "" && m.Commit != "unknown" {
		commit = ", commit " + m.Commit
	}
	return fmt.Sprintf("%d of %d targets met (ratios of the medians). Medians of %d interleaved round(s) (%d cold starts a side per "+
		"round, %.0f s of load a side per round; ranges in parentheses; \"paired\": the median of each pair's own ratio) on %d cores (%s), %s, %s, load average %s at the start and %s at the end%s. "+
		"Warm: %d + %d requests answered, %d + %d errors; idverify wrote %.0f bytes of log per request.",
		met, total, rep.Rounds, rep.Options.ColdPerRound, rep.Options.WarmSeconds, m.Cores, m.CPU, m.GoVersion, m.Kernel,
		m.LoadStart, m.LoadEnd, commit, rep.Warm.Requests[0], rep.Warm.Requests[1], rep.Warm.Errors[0], rep.Warm.Errors[1],
		rep.Warm.LogBytesPerRequest)
}

// write prints the report in the format the options ask for.
func (rep *report) write(o *options, w io.Writer) error {
	switch {
	case o.json:
		return rep.writeJSON(w)
	case o.markdown:
		rep.writeMarkdown(w)
	default:
		rep.writeTable(w)
	}
	return nil
}

// readReport reads a report saved with --json.
func readReport(path string) (*report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(rep.Rows) == 0 {
		return nil, fmt.Errorf("%s: not a report of go run ./scripts/bench --json", path)
	}
	return &rep, nil
}

func (rep *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeMarkdown prints the README's performance section.
func (rep *report) writeMarkdown(w io.Writer) {
	s, o := rep.Built.Settings, rep.Options
	para := func(indent string, text string) { fmt.Fprintln(w, wrap(text, indent, 115)) }
	fmt.Fprintln(w, "## Performance: against the minimal Go program")
	fmt.Fprintln(w)
	para("", "`go run ./scripts/bench` measures the functions side by side with the smallest Go programs doing the same "+
		"work, in one run with interleaved rounds (idverify, peer, then peer, idverify...) so the machine's load falls on "+
		"both, and prints each median as a ratio to its peer. The peers live in `scripts/bench/peers`: **hellotc3** "+
		"(aws-lambda-go and one tencentcloud-sdk-go CommonClient IdCardVerification call per invocation; no caller auth, "+
		"no checks, no logs) and **signproxy** (an `httputil.ReverseProxy` that signs TC3 and forwards the same body). "+
		"The project's binaries are built by `scripts/build.sh` itself, the peers with the same settings: tags, "+
		"`-trimpath`, CGO and GOARCH/GOAMD64/GOARM64 read from the Lambda binary's build info, the linker flags from "+
		"`scripts/build.sh` (checked on the ELF: symbol table, DWARF, build ID). For Lambda that is "+
		fmt.Sprintf("`-tags %s -trimpath -ldflags '%s'`. ", s.Tags, s.Ldflags)+
		"Every call goes to a fake FaceID (`tests/fakes/faceid`) that verifies the TC3 signature, so every figure "+
		"includes one real signed call.")
	fmt.Fprintln(w)
	for _, item := range []string{
		"**Binary**: `functions/id-card-verification` built for Lambda (what `template.yaml` deploys) vs hellotc3.",
		"**Cold start**: from exec of the Lambda binary under a Lambda Runtime API emulator to its POST of the response " +
			"to one API Gateway HTTP API (payload 2.0) event carrying a caller key; **peak RSS** is that process's " +
			"high-water mark (VmHWM) after answering.",
		fmt.Sprintf("**Warm**: `functions/id-card-verification`, %s, live, request logs on (info, drained through a "+
			"pipe), vs signproxy; %d concurrent keep-alive clients for %.0f s a side a round; CPU is the server's "+
			"utime+stime over the requests it answered.", rep.Built.Servers, o.Concurrency, o.WarmSeconds),
		fmt.Sprintf("**Large bodies**: a fresh `functions/liveness-compare` server of the same build (and a fresh "+
			"signproxy) answering %d concurrent valid LivenessCompare requests of %.0f MB (random base64 image and "+
			"video); peak RSS of the server.", o.Bodies, float64(o.BodyBytes)/1e6),
	} {
		fmt.Fprintln(w, wrap("- "+item, "  ", 115))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| "+strings.Join(header[:5], " | ")+" | |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, x := range rep.Rows {
		fmt.Fprintln(w, "| "+strings.Join(x.cells(), " | ")+" |")
	}
	fmt.Fprintln(w)
	para("", rep.summary())
	fmt.Fprintln(w)
	para("", "Regenerate with `go run ./scripts/bench --markdown` (`--rounds N` for more samples; `--json > r.json` keeps "+
		"the raw figures and `--from r.json --markdown` prints this section from them).")
}

// wrap breaks text into lines of at most width runes at spaces; lines after
// the first start with indent.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(text) {
		n := utf8.RuneCountInString(word)
		switch {
		case i == 0:
		case line+1+n > width:
			b.WriteString("\n" + indent)
			line = utf8.RuneCountInString(indent)
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += n
	}
	return b.String()
}
