package usage

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/tests/redistest"
)

type contract struct {
	gateway.Contract
	name, mode string
}

func (c contract) Name() string { return c.name }
func (c contract) Mode() string { return c.mode }

func answer(code, source string) gateway.CallFunc {
	return func(context.Context, *gateway.Call) (*gateway.Answer, error) {
		return &gateway.Answer{Code: code, Header: map[string]string{"X-Idv-Source": source}}, nil
	}
}

func call(caller, action string, test bool) *gateway.Call {
	return &gateway.Call{Op: gateway.Op{Action: action}, Caller: &gateway.Caller{ID: caller, Test: test}}
}

func TestRecorderCountsEveryAnswerExactly(t *testing.T) {
	rs := redistest.Start(t)
	stores := map[string]Store{"memory": NewMemory(0), "redis": NewRedis(rs.Client(t), "idv:usage:", time.Hour)}
	for name, s := range stores {
		t.Run(name, func(t *testing.T) {
			var emf bytes.Buffer
			// Two recorders on one store: two instances.
			r1, r2 := NewRecorder(s, EMF(&emf, "idverify"), nil), NewRecorder(s, nil, nil)
			live := contract{name: "faceid", mode: "live"}
			var wg sync.WaitGroup
			for i := 0; i < 64; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					r := r1
					if i%2 == 1 {
						r = r2
					}
					code := "0"
					if i%4 == 0 {
						code = "-2"
					}
					_, _ = r.Intercept(context.Background(), live, call("web", "IdCardVerification", false), answer(code, "provider"))
				}(i)
			}
			wg.Wait()
			refused := func(context.Context, *gateway.Call) (*gateway.Answer, error) {
				return nil, errs.E(errs.Throttled, "LimitExceeded", "x")
			}
			_, _ = r1.Intercept(context.Background(), live, call("web", "IdCardVerification", false), refused)
			_, _ = r1.Intercept(context.Background(), live, call("qa", "IdCardVerification", true), answer("0", "provider"))
			_, _ = r1.Intercept(context.Background(), live, &gateway.Call{Op: gateway.Op{Action: "faceAdv", Control: true}}, answer("", ""))

			day, err := s.Day(context.Background(), DayOf(time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			want := map[Key]int64{
				{"web", "IdCardVerification", "live", "charged", "0"}:          48,
				{"web", "IdCardVerification", "live", "free", "-2"}:            16,
				{"web", "IdCardVerification", "live", "free", "LimitExceeded"}: 1,
				{"qa", "IdCardVerification", "sandbox", "charged", "0"}:        1,
			}
			if len(day) != len(want) {
				t.Fatalf("counts %v, want %v", day, want)
			}
			for k, n := range want {
				if day[k] != n {
					t.Errorf("%+v: %d, want %d", k, day[k], n)
				}
			}
			lines := strings.Split(strings.TrimSpace(emf.String()), "\n")
			if len(lines) != 32+2 {
				t.Fatalf("%d EMF lines from r1, want 34", len(lines))
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
				t.Fatal(err)
			}
			aws, _ := m["_aws"].(map[string]any)
			if aws == nil || m["caller"] != "web" || m["calls"] != 1.0 || aws["CloudWatchMetrics"] == nil {
				t.Fatalf("EMF line: %s", lines[0])
			}
		})
	}
}

func TestLogFields(t *testing.T) {
	var b bytes.Buffer
	LogFields(slog.New(slog.NewJSONHandler(&b, nil))).Count(Key{"web", "IdCardVerification", "live", "charged", "0"})
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil || m["msg"] != "usage" || m["charged"] != 1.0 || m["free"] != 0.0 || m["action"] != "IdCardVerification" {
		t.Fatalf("%s %v", b.String(), err)
	}
}

func TestReport(t *testing.T) {
	s := NewMemory(0)
	ctx := context.Background()
	add := func(day string, k Key, n int64) {
		if err := s.Add(ctx, day, k, n); err != nil {
			t.Fatal(err)
		}
	}
	add("20261130", Key{"web", "IdCardVerification", "live", "charged", "0"}, 10)
	add("20261201", Key{"web", "IdCardVerification", "live", "charged", "-1"}, 5)
	add("20261201", Key{"web", "IdCardVerification", "live", "free", "-2"}, 3)
	add("20261201", Key{"web", "IdCardVerification", "live", "uncertain", "InternalError.UpstreamTimeout"}, 1)
	add("20261202", Key{"qa", "PhoneVerification", "sandbox", "charged", "0"}, 7)
	prices, err := ParsePrices(`{"currency":"CNY","perCall":{"IdCardVerification":0.3,"*":0.1}}`, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ParseQuery("2026-11-30", "2026-12-02", "month", "", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	rep, err := Build(ctx, s, q, prices, func(d string, done, total int) { days = append(days, d) })
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 3 || len(rep.Rows) != 3 {
		t.Fatalf("days %v rows %+v", days, rep.Rows)
	}
	dec := rep.Rows[2] // sorted by period, then caller: qa before web
	if dec.Period != "2026-12" || dec.Charged != 5 || dec.Free != 3 || dec.Uncertain != 1 || dec.Calls != 9 || dec.Cost != 1.5 || dec.Codes["-2"] != 3 {
		t.Fatalf("december row %+v", dec)
	}
	if len(rep.Totals) != 2 || rep.Totals[0].Charged != 15 || rep.Totals[1].Mode != "sandbox" || rep.Totals[1].Cost != 0.7 {
		t.Fatalf("totals %+v", rep.Totals)
	}
	var text, csv, js bytes.Buffer
	_ = rep.Text(&text)
	_ = rep.CSV(&csv)
	_ = rep.JSON(&js)
	if !strings.Contains(text.String(), "est. cost (CNY)") || !strings.Contains(text.String(), "2026-11") {
		t.Fatalf("text:\n%s", text.String())
	}
	if !strings.HasPrefix(csv.String(), "month,caller,action,mode,calls,charged,free,uncertain,estimated_cost,currency\n2026-11,web,IdCardVerification,live,10,10,0,0,3.00,CNY\n") {
		t.Fatalf("csv:\n%s", csv.String())
	}
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Rows) != 3 {
		t.Fatalf("json: %v", err)
	}
	// Filters.
	q.Caller = "qa"
	rep, _ = Build(ctx, s, q, prices, nil)
	if len(rep.Rows) != 1 || rep.Rows[0].Caller != "qa" {
		t.Fatalf("caller filter: %+v", rep.Rows)
	}
}

func TestParseQueryAndPrices(t *testing.T) {
	now := time.Date(2026, 12, 2, 20, 0, 0, 0, time.UTC) // already Dec 3 in China
	q, err := ParseQuery("", "", "", "", "", now)
	if err != nil || q.From.Format("2006-01-02") != "2026-12-01" || q.To.Format("2006-01-02") != "2026-12-03" {
		t.Fatalf("default range: %v %v %v", q.From, q.To, err)
	}
	for _, bad := range [][3]string{{"2026-13-01", "", ""}, {"2026-12-02", "2026-12-01", ""}, {"", "", "week"}, {"2020-01-01", "2026-01-01", ""}} {
		if _, err := ParseQuery(bad[0], bad[1], bad[2], "", "", now); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	for _, bad := range []string{`{"perCall":{"X":1}}`, `{"perCall":{"*":-1}}`, `{"perCall":{},"rate":1}`, `[]`} {
		if _, err := ParsePrices(bad, func(a string) bool { return a == "IdCardVerification" }); err == nil || !strings.Contains(err.Error(), PricesVar) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestCodesAreCleaned(t *testing.T) {
	k := Key{"web", "A", "live", "free", clean("a|b\n" + strings.Repeat("x", 100))}
	back, ok := parseField(k.field())
	if !ok || back != k || len(k.Code) != 64 || strings.ContainsAny(k.Code, "|\n") {
		t.Fatalf("%+v %v", back, ok)
	}
}

func TestContractRoutes(t *testing.T) {
	s := NewMemory(0)
	_ = s.Add(context.Background(), DayOf(time.Now()), Key{"web", "IdCardVerification", "live", "charged", "0"}, 2)
	c := NewContract(s, Prices{}, "live")
	op, ok := c.Route(&gateway.Request{Method: "GET", Path: Path, RawQuery: "by=month"})
	if !ok || op.Err != nil || op.Action != Action || !op.Control {
		t.Fatalf("route: %+v", op)
	}
	ans, err := c.Call(context.Background(), &gateway.Call{Op: op})
	if err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(ans.Body, &rep); err != nil || len(rep.Rows) != 1 || rep.Rows[0].Charged != 2 {
		t.Fatalf("report %s %v", ans.Body, err)
	}
	if op, _ := c.Route(&gateway.Request{Method: "POST", Path: Path}); op.Status != 405 {
		t.Fatalf("POST: %+v", op)
	}
	if op, _ := c.Route(&gateway.Request{Method: "GET", Path: Path, RawQuery: "from=yesterday"}); op.Err == nil || !strings.Contains(op.Err.Message, "from") {
		t.Fatalf("bad from: %+v", op)
	}
	if _, ok := c.Route(&gateway.Request{Method: "GET", Path: "/v1/usagex"}); ok {
		t.Fatal("claimed another path")
	}
}

// TestEMFLineIsEncodingJSONs: the hand-appended EMF line is byte for byte
// what encoding/json makes of the same document, for every kind of string
// a caller id, action or code could hold (quotes, backslashes, control
// characters, HTML characters, invalid UTF-8, U+2028/U+2029, non-ASCII).
func TestEMFLineIsEncodingJSONs(t *testing.T) {
	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	type directive struct {
		Namespace  string     `json:"Namespace"`
		Dimensions [][]string `json:"Dimensions"`
		Metrics    []metric   `json:"Metrics"`
	}
	type meta struct {
		Timestamp         int64       `json:"Timestamp"`
		CloudWatchMetrics []directive `json:"CloudWatchMetrics"`
	}
	at := time.UnixMilli(1767225600123)
	for _, s := range []string{"web", `a"b\c`, "x\x00\x1f\ty\n", "<&>", "bad\xffutf8\xc3", "\u2028\u2029", "李四", "FailedOperation.X"} {
		for _, class := range []string{"charged", "free", "uncertain"} {
			k := Key{Caller: s, Action: "IdCardVerification" + s, Mode: "live", Class: class, Code: s}
			var got bytes.Buffer
			e := EMF(&got, "idverify"+s).(*emf)
			e.now = func() time.Time { return at }
			e.Count(k)
			want, err := json.Marshal(struct {
				AWS meta `json:"_aws"`
				counts
			}{meta{at.UnixMilli(), []directive{{"idverify" + s, [][]string{{"caller", "action", "mode"}},
				[]metric{{"calls", "Count"}, {"charged", "Count"}, {"free", "Count"}, {"uncertain", "Count"}}}}}, countsOf(k)})
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != string(want)+"\n" {
				t.Errorf("%q %s:\n got %s\nwant %s", s, class, got.String(), want)
			}
		}
	}
}
