package usage

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idverify/idverify/shared/billing"
)

// Prices is the price table of IDV_USAGE_PRICES: the price of one charged
// call per action ("*" for any other), in Currency.
type Prices struct {
	Currency string             `json:"currency,omitempty"`
	PerCall  map[string]float64 `json:"perCall"`
}

// PricesVar is the setting that holds the price table.
const PricesVar = "IDV_USAGE_PRICES"

// ParsePrices reads IDV_USAGE_PRICES: {"currency":"CNY","perCall":{"IdCardVerification":0.3,"*":0}}.
// known checks an action name ("*" is always allowed).
func ParsePrices(v string, known func(string) bool) (Prices, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return Prices{}, nil
	}
	d := json.NewDecoder(strings.NewReader(v))
	d.DisallowUnknownFields()
	var p Prices
	if err := d.Decode(&p); err != nil {
		return Prices{}, fmt.Errorf(`%s: want {"currency":"CNY","perCall":{"<Action>":0.3,"*":0}} (unknown members are refused)`, PricesVar)
	}
	if _, err := d.Token(); err != io.EOF {
		return Prices{}, fmt.Errorf("%s: unexpected data after the JSON object", PricesVar)
	}
	if len(p.Currency) > 8 {
		return Prices{}, fmt.Errorf("%s.currency: at most 8 characters (CNY, USD...)", PricesVar)
	}
	for a, x := range p.PerCall {
		if a != "*" && known != nil && !known(a) {
			return Prices{}, fmt.Errorf("%s.perCall: unknown action %q", PricesVar, trunc(a, 64))
		}
		if math.IsNaN(x) || x < 0 || x > 1e6 {
			return Prices{}, fmt.Errorf("%s.perCall[%q]: want a price from 0 to 1000000", PricesVar, trunc(a, 64))
		}
	}
	return p, nil
}

// Price is the price of one charged call of action.
func (p Prices) Price(action string) float64 {
	if x, ok := p.PerCall[action]; ok {
		return x
	}
	return p.PerCall["*"]
}

// Query selects a report.
type Query struct {
	From, To time.Time // days, inclusive, in China time
	ByMonth  bool
	Caller   string // "" for every caller
	Action   string // "" for every action
}

// MaxDays bounds a report's range.
const MaxDays = 800

// ParseQuery reads a report's range: from and to as YYYY-MM-DD (default:
// the first of this month to today, China time), by "day" or "month".
func ParseQuery(from, to, by, caller, action string, now time.Time) (Query, error) {
	today := billing.DayStart(now)
	q := Query{From: today.AddDate(0, 0, 1-today.Day()), To: today, Caller: caller, Action: action}
	var err error
	if from != "" {
		if q.From, err = time.ParseInLocation("2006-01-02", from, billing.ChinaTime); err != nil {
			return q, errors.New("from: want a date written YYYY-MM-DD")
		}
	}
	if to != "" {
		if q.To, err = time.ParseInLocation("2006-01-02", to, billing.ChinaTime); err != nil {
			return q, errors.New("to: want a date written YYYY-MM-DD")
		}
	}
	switch by {
	case "", "day":
	case "month":
		q.ByMonth = true
	default:
		return q, errors.New("by: want day or month")
	}
	if q.To.Before(q.From) {
		return q, errors.New("to: before from")
	}
	if n := q.days(); n > MaxDays {
		return q, fmt.Errorf("the range is %d days; at most %d", n, MaxDays)
	}
	if len(caller) > 64 || len(action) > 64 {
		return q, errors.New("caller, action: at most 64 characters")
	}
	return q, nil
}

func (q Query) days() int { return int(q.To.Sub(q.From).Hours()/24+0.5) + 1 }

// Row is one line of the report: a period, a caller, an action and a mode.
type Row struct {
	Period    string           `json:"period"`
	Caller    string           `json:"caller"`
	Action    string           `json:"action"`
	Mode      string           `json:"mode"`
	Calls     int64            `json:"calls"`
	Charged   int64            `json:"charged"`
	Free      int64            `json:"free"`
	Uncertain int64            `json:"uncertain"`
	Cost      float64          `json:"estimatedCost"`
	Codes     map[string]int64 `json:"codes"`
}

// Report is the usage of a range.
type Report struct {
	From     string `json:"from"`
	To       string `json:"to"`
	By       string `json:"by"`
	Currency string `json:"currency,omitempty"`
	Rows     []Row  `json:"rows"`
	// Totals are one row per mode (live, sandbox) over the whole range.
	Totals []Row `json:"totals"`
}

// Reader is what a report reads: a Store's days.
type Reader interface {
	Day(ctx context.Context, day string) (map[Key]int64, error)
}

// Build reads every day of q from r and sums it. progress, when not nil,
// is told each day as it is read.
func Build(ctx context.Context, r Reader, q Query, prices Prices, progress func(day string, done, total int)) (*Report, error) {
	by := "day"
	if q.ByMonth {
		by = "month"
	}
	rep := &Report{From: q.From.Format("2006-01-02"), To: q.To.Format("2006-01-02"), By: by, Currency: prices.Currency, Rows: []Row{}, Totals: []Row{}}
	rows := map[[4]string]*Row{}
	totals := map[string]*Row{}
	total := q.days()
	for i, d := 0, q.From; !d.After(q.To); i, d = i+1, d.AddDate(0, 0, 1) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		day := d.Format("20060102")
		counts, err := r.Day(ctx, day)
		if err != nil {
			return nil, fmt.Errorf("day %s: %w", d.Format("2006-01-02"), err)
		}
		if progress != nil {
			progress(d.Format("2006-01-02"), i+1, total)
		}
		period := d.Format("2006-01-02")
		if q.ByMonth {
			period = d.Format("2006-01")
		}
		for k, n := range counts {
			if (q.Caller != "" && k.Caller != q.Caller) || (q.Action != "" && k.Action != q.Action) {
				continue
			}
			id := [4]string{period, k.Caller, k.Action, k.Mode}
			row := rows[id]
			if row == nil {
				row = &Row{Period: period, Caller: k.Caller, Action: k.Action, Mode: k.Mode, Codes: map[string]int64{}}
				rows[id] = row
			}
			tot := totals[k.Mode]
			if tot == nil {
				tot = &Row{Period: "total", Caller: "*", Action: "*", Mode: k.Mode, Codes: map[string]int64{}}
				totals[k.Mode] = tot
			}
			for _, x := range []*Row{row, tot} {
				x.add(k, n, prices.Price(k.Action))
			}
		}
	}
	for _, row := range rows {
		rep.Rows = append(rep.Rows, *row)
	}
	sort.Slice(rep.Rows, func(i, j int) bool {
		a, b := rep.Rows[i], rep.Rows[j]
		if a.Period != b.Period {
			return a.Period < b.Period
		}
		if a.Caller != b.Caller {
			return a.Caller < b.Caller
		}
		if a.Action != b.Action {
			return a.Action < b.Action
		}
		return a.Mode < b.Mode
	})
	for _, m := range []string{"live", "sandbox"} {
		if t := totals[m]; t != nil {
			rep.Totals = append(rep.Totals, *t)
		}
	}
	return rep, nil
}

func (r *Row) add(k Key, n int64, price float64) {
	r.Calls += n
	switch k.Class {
	case "charged":
		r.Charged += n
		r.Cost = round2(r.Cost + float64(n)*price)
	case "uncertain":
		r.Uncertain += n
	default:
		r.Free += n
	}
	code := k.Code
	if code == "" {
		code = "(none)"
	}
	r.Codes[code] += n
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// Text writes the report as an aligned table.
func (rep *Report) Text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	cost := "est. cost"
	if rep.Currency != "" {
		cost += " (" + rep.Currency + ")"
	}
	fmt.Fprintf(tw, "%s\tcaller\taction\tmode\tcalls\tcharged\tfree\tuncertain\t%s\n", rep.By, cost)
	line := func(r Row) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.2f\n", r.Period, r.Caller, r.Action, r.Mode, r.Calls, r.Charged, r.Free, r.Uncertain, r.Cost)
	}
	for _, r := range rep.Rows {
		line(r)
	}
	for _, r := range rep.Totals {
		line(r)
	}
	if len(rep.Rows) == 0 {
		fmt.Fprintf(tw, "(no calls from %s to %s)\n", rep.From, rep.To)
	}
	return tw.Flush()
}

// CSV writes the report's rows (no totals) as CSV with a header.
func (rep *Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{rep.By, "caller", "action", "mode", "calls", "charged", "free", "uncertain", "estimated_cost", "currency"})
	for _, r := range rep.Rows {
		_ = cw.Write([]string{r.Period, r.Caller, r.Action, r.Mode, itoa(r.Calls), itoa(r.Charged), itoa(r.Free), itoa(r.Uncertain),
			strconv.FormatFloat(r.Cost, 'f', 2, 64), rep.Currency})
	}
	cw.Flush()
	return cw.Error()
}

// JSON writes the report as indented JSON.
func (rep *Report) JSON(w io.Writer) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
