package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/usage"
	"github.com/idverify/idverify/tests/redistest"
)

func TestReportFromRedis(t *testing.T) {
	rs := redistest.Start(t)
	s := usage.NewRedis(rs.Client(t), "idv:usage:", time.Hour)
	ctx := context.Background()
	today := usage.DayOf(time.Now())
	_ = s.Add(ctx, today, usage.Key{Caller: "web", Action: "IdCardVerification", Mode: "live", Class: "charged", Code: "0"}, 4)
	_ = s.Add(ctx, today, usage.Key{Caller: "web", Action: "IdCardVerification", Mode: "live", Class: "free", Code: "-2"}, 1)
	getenv := func(k string) string {
		return map[string]string{"IDV_REDIS_URL": rs.URL, "IDV_USAGE_PRICES": `{"currency":"CNY","perCall":{"*":0.25}}`}[k]
	}
	run1 := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(ctx, args, getenv, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, _ := run1()
	if code != 0 || !strings.Contains(out, "est. cost (CNY)") || !strings.Contains(out, "1.00") {
		t.Fatalf("text: %d\n%s", code, out)
	}
	code, out, _ = run1("--json", "--by", "month")
	var rep usage.Report
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Totals[0].Charged != 4 || rep.Totals[0].Free != 1 {
		t.Fatalf("json: %d %s", code, out)
	}
	code, out, _ = run1("--csv", "--caller", "nobody")
	if code != 0 || strings.Count(out, "\n") != 1 {
		t.Fatalf("csv of nobody: %d %q", code, out)
	}
	// A long range says how far it got on stderr; --quiet does not.
	from := time.Now().AddDate(0, -3, 0).Format("2006-01-02")
	if code, _, errOut := run1("--from", from); code != 0 || !strings.Contains(errOut, "days)") {
		t.Fatalf("progress: %d %q", code, errOut)
	}
	if _, _, errOut := run1("--from", from, "--quiet"); errOut != "" {
		t.Fatalf("quiet: %q", errOut)
	}
}

func TestBadInvocations(t *testing.T) {
	none := func(string) string { return "" }
	for _, args := range [][]string{{"--by", "week"}, {"--json", "--csv"}, {"--from", "today"}, {"extra"}, {"--nope"}} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, none, &out, &errOut); code != 2 || errOut.Len() == 0 {
			t.Errorf("%v: exit %d, %q", args, code, errOut.String())
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), nil, none, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "--redis") {
		t.Errorf("no store: exit %d %q", code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"--redis", "redis://:secret-pw@[bad"}, none, &out, &errOut); code != 1 || strings.Contains(errOut.String(), "secret-pw") {
		t.Errorf("bad URL: exit %d %q", code, errOut.String())
	}
}
