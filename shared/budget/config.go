package budget

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/idverify/idverify/shared/errs"
	"io"
	"math"
	"sort"
	"strings"
)

// Var is the setting that holds the budgets.
const Var = "IDV_BUDGETS"

// DefaultCaller is the budgets entry every caller without its own gets
// (each caller counted on its own against it).
const DefaultCaller = "*"

// DefaultWarn is the share of a cap past which a warning is logged once.
const DefaultWarn = 0.8

// Caps are billable calls allowed per China-time day and per calendar
// month (0: no cap in that window).
type Caps struct {
	Day   int64 `json:"day,omitempty"`
	Month int64 `json:"month,omitempty"`
}

// Budget is one caller's entry in IDV_BUDGETS.
type Budget struct {
	Caps
	// Warn is the share of a cap (0 < warn <= 1) at which a warning is
	// logged, once per cap and window; default 0.8.
	Warn float64 `json:"warn,omitempty"`
	// Actions are caps of one action, on top of the caller's.
	Actions map[string]Caps `json:"actions,omitempty"`
}

// Budgets are IDV_BUDGETS: caller id (or "*") to budget.
type Budgets map[string]Budget

// For is the budget of caller id: its own, else the default, else none.
func (b Budgets) For(id string) (Budget, bool) {
	if x, ok := b[id]; ok {
		return x, true
	}
	x, ok := b[DefaultCaller]
	return x, ok
}

// Parse reads IDV_BUDGETS: a JSON object from caller id (or "*") to
// {"day":N,"month":N,"warn":0.8,"actions":{"<Action>":{"day":N,"month":N}}}.
// billable says whether an action can be billed per call (a cap on any
// other would never apply); callers, when not nil, are the configured
// caller ids an entry must name.
func Parse(v string, billable func(action string) bool, callers []string) (Budgets, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader([]byte(v)))
	d.DisallowUnknownFields()
	var b Budgets
	if err := d.Decode(&b); err != nil {
		return nil, fmt.Errorf("%s: want a JSON object from caller id to {\"day\":N,\"month\":N,\"warn\":0.8,\"actions\":{...}}: %s", Var, describe(err))
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%s: unexpected data after the JSON object", Var)
	}
	ids := make([]string, 0, len(b))
	for id := range b {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		x := b[id]
		where := fmt.Sprintf("%s[%q]", Var, trunc(id, 64))
		if id != DefaultCaller && callers != nil && !contains(callers, id) {
			return nil, fmt.Errorf("%s: no caller with this id in IDV_CALLERS (use \"*\" for every caller)", where)
		}
		if err := x.Caps.check(where); err != nil {
			return nil, err
		}
		if x.Warn == 0 {
			x.Warn = DefaultWarn
		}
		if math.IsNaN(x.Warn) || x.Warn <= 0 || x.Warn > 1 {
			return nil, fmt.Errorf("%s.warn: want a share above 0 and at most 1 (0.8 warns at 80%% of a cap)", where)
		}
		for a, c := range x.Actions {
			if billable != nil && !billable(a) {
				return nil, fmt.Errorf("%s.actions: %q is not an action billed per call, so a cap on it would never apply", where, trunc(a, 64))
			}
			if err := c.check(where + ".actions." + a); err != nil {
				return nil, err
			}
		}
		if x.Day == 0 && x.Month == 0 && len(x.Actions) == 0 {
			return nil, fmt.Errorf("%s: no cap: give day, month or actions (or leave the caller out)", where)
		}
		b[id] = x
	}
	return b, nil
}

func (c Caps) check(where string) error {
	if c.Day < 0 || c.Month < 0 || c.Day > 1e12 || c.Month > 1e12 {
		return fmt.Errorf("%s: day and month are whole numbers of billable calls from 0 (no cap) to 1000000000000", where)
	}
	if c.Day > 0 && c.Month > 0 && c.Day > c.Month {
		return fmt.Errorf("%s: the daily cap %d is above the monthly cap %d", where, c.Day, c.Month)
	}
	return nil
}

func describe(err error) string {
	return errs.DescribeJSON(err, "day, month, warn, actions")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
