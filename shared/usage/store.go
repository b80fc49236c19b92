// Package usage counts every answer the pipeline gives, per caller, action,
// China-time day, mode (live or sandbox), result code and what it cost
// (charged, free, uncertain: shared/billing), in Redis with a retention
// (HINCRBY, so exact under any concurrency and across instances) or in
// memory; emits the same counts as metrics the platform reads without a
// sidecar (CloudWatch Embedded Metric Format on Lambda, JSON log fields on
// SCF); and builds the usage report scripts/idvusage and GET /v1/usage
// print, with an estimated cost from a price table.
package usage

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/billing"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/resp"
)

// DayOf is the usage day of t, YYYYMMDD: a day on the bill
// (billing.ChinaTime).
func DayOf(t time.Time) string { return t.In(billing.ChinaTime).Format("20060102") }

// Key is what one count is kept under within a day.
type Key struct {
	Caller string `json:"caller"`
	Action string `json:"action"`
	Mode   string `json:"mode"`  // "live" or "sandbox"
	Class  string `json:"class"` // "charged", "free", "uncertain"
	Code   string `json:"code"`  // the business result code or error code; "" when none
}

// field is the Redis hash field of k. Caller ids, action names, modes and
// classes never hold "|"; codes are cleaned of it (clean).
func (k Key) field() string {
	return k.Caller + "|" + k.Action + "|" + k.Mode + "|" + k.Class + "|" + k.Code
}

func parseField(f string) (Key, bool) {
	p := strings.SplitN(f, "|", 5)
	if len(p) != 5 {
		return Key{}, false
	}
	return Key{Caller: p[0], Action: p[1], Mode: p[2], Class: p[3], Code: p[4]}, true
}

// clean keeps a result code printable, short and free of the field
// separator: codes come from providers.
func clean(code string) string {
	if len(code) > 64 {
		code = code[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '|' {
			return '?'
		}
		return r
	}, code)
}

// Store keeps the counts.
type Store interface {
	// Add adds n to k's count on day (YYYYMMDD).
	Add(ctx context.Context, day string, k Key, n int64) error
	// Day is every count of day.
	Day(ctx context.Context, day string) (map[Key]int64, error)
}

// DefaultRetention is how long a day's counts are kept: 13 months, so a
// month can be compared with the same month a year before.
const DefaultRetention = 400 * 24 * time.Hour

// Redis keeps one hash a day, idv:usage:<YYYYMMDD>, field
// caller|action|mode|class|code, value the count; each write renews the
// hash's expiry to the retention.
type Redis struct {
	c         *resp.Client
	prefix    string
	retention time.Duration
}

// NewRedis returns a Store in c under prefix ("idv:usage:").
func NewRedis(c *resp.Client, prefix string, retention time.Duration) *Redis {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &Redis{c: c, prefix: prefix, retention: retention}
}

// Add implements Store: HINCRBY and PEXPIRE in one transaction.
func (s *Redis) Add(ctx context.Context, day string, k Key, n int64) error {
	key := s.prefix + day
	_, err := s.c.Tx(ctx, []any{"HINCRBY", key, k.field(), n}, []any{"PEXPIRE", key, s.retention.Milliseconds()})
	if err != nil {
		return errs.Wrap(err, errs.Unavailable, "UsageStoreUnavailable", "the usage store is unavailable")
	}
	return nil
}

// Day implements Store.
func (s *Redis) Day(ctx context.Context, day string) (map[Key]int64, error) {
	kv, err := s.c.Do(ctx, "HGETALL", s.prefix+day).StringSlice()
	if err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, "UsageStoreUnavailable", "the usage store is unavailable")
	}
	out := make(map[Key]int64, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		k, ok := parseField(kv[i])
		n, err := strconv.ParseInt(kv[i+1], 10, 64)
		if ok && err == nil {
			out[k] += n
		}
	}
	return out, nil
}

// Memory is a Store for one instance (a local server, a test).
type Memory struct {
	mu        sync.Mutex
	days      map[string]map[Key]int64
	retention time.Duration
	now       func() time.Time
}

// NewMemory returns an empty Store in memory.
func NewMemory(retention time.Duration) *Memory {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &Memory{days: map[string]map[Key]int64{}, retention: retention, now: time.Now}
}

// Add implements Store; days past the retention are dropped.
func (m *Memory) Add(_ context.Context, day string, k Key, n int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.days[day]
	if d == nil {
		d = map[Key]int64{}
		m.days[day] = d
		oldest := DayOf(m.now().Add(-m.retention))
		for x := range m.days {
			if x < oldest {
				delete(m.days, x)
			}
		}
	}
	d[k] += n
	return nil
}

// Day implements Store.
func (m *Memory) Day(_ context.Context, day string) (map[Key]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[Key]int64, len(m.days[day]))
	for k, n := range m.days[day] {
		out[k] = n
	}
	return out, nil
}
