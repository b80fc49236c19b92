package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.rounds != 5 || o.coldPer != 4 || o.warm != 3*time.Second || o.concurrency != 32 || o.bodies != 8 {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	o, err = parseFlags([]string{"--quick"}, io.Discard)
	if err != nil || o.rounds != 1 || o.coldPer != 2 || o.warm != time.Second {
		t.Fatalf("--quick: %+v %v", o, err)
	}
	o, err = parseFlags([]string{"--quick", "--rounds", "3", "--markdown"}, io.Discard)
	if err != nil || o.rounds != 3 || !o.markdown {
		t.Fatalf("--quick --rounds 3: %+v %v", o, err)
	}
	for _, bad := range [][]string{{"--json", "--markdown"}, {"--rounds", "-1"}, {"--warm", "1ms"}, {"--body-size", "12000000"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// The peers are linked with scripts/build.sh's flags: the one literal
// -ldflags there (the rest is read from the project's binaries).
func TestScriptLdflags(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ld, err := scriptLdflags(root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ld, "-s") || !strings.Contains(ld, "-w") {
		t.Fatalf("build.sh -ldflags %q: want -s -w", ld)
	}
}

func TestLivenessBody(t *testing.T) {
	b := livenessBody(6_000_000)
	var req struct{ LivenessType, ImageBase64, VideoBase64 string }
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	if d := len(b) - 6_000_000; d < -200 || d > 0 || len(req.ImageBase64) > 3<<20 || len(req.VideoBase64) > 8<<20 ||
		len(req.ImageBase64)%4 != 0 || len(req.VideoBase64)%4 != 0 {
		t.Fatalf("body of %d bytes: image %d, video %d", len(b), len(req.ImageBase64), len(req.VideoBase64))
	}
}

// One small round end to end: the project's binaries and the peers build,
// every measurement runs against the fake FaceID, and the report is sane.
// Nothing here is timed: only that each figure exists.
func TestQuickRound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries and runs every measurement once")
	}
	var out, progress bytes.Buffer
	args := []string{"--quick", "--json", "--cold", "1", "--warm", "300ms", "-c", "4", "--bodies", "2", "--body-size", "2000000"}
	if err := realMain(context.Background(), args, &out, &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	var rep report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Rows) != 7 || rep.Rounds != 1 || rep.Machine.Cores < 1 || rep.Machine.GoVersion == "" {
		t.Fatalf("report: %s", out.String())
	}
	targets := 0
	for _, x := range rep.Rows {
		if !(x.IDV > 0) || !(x.Peer > 0) || math.IsInf(x.Ratio, 0) || !(x.Ratio > 0) || x.Samples < 1 {
			t.Errorf("%s: idverify %v, peer %v, ratio %v, %d samples", x.What, x.IDV, x.Peer, x.Ratio, x.Samples)
		}
		if x.Met != nil {
			targets++
		}
	}
	if targets != 6 {
		t.Errorf("%d rows with a target, want 6", targets)
	}
	if rep.Warm.Errors != [2]int{} || rep.Warm.Requests[0] == 0 || rep.Warm.Requests[1] == 0 {
		t.Errorf("warm: %+v", rep.Warm)
	}
	if !strings.Contains(rep.Built.Settings.Tags, "lambda.norpc") || !rep.Built.Settings.Trimpath {
		t.Errorf("Lambda build settings: %+v", rep.Built.Settings)
	}
	for _, want := range []string{"round 1/1", "cold start", "warm idverify", "warm signproxy", "LivenessCompare"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}

	// The saved report prints again as a table and as the README section.
	saved := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(saved, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"", "--markdown"} {
		var s bytes.Buffer
		if err := realMain(context.Background(), append([]string{"--from", saved}, strings.Fields(format)...), &s, io.Discard); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"hellotc3", "signproxy", "cold start", "×", "targets met"} {
			if !strings.Contains(s.String(), want) {
				t.Errorf("%s output lacks %q:\n%s", format, want, s.String())
			}
		}
	}
}
