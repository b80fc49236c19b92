package quota

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idverify/idverify/tests/redistest"
)

func stores(t *testing.T) map[string]Store {
	rs := redistest.Start(t)
	return map[string]Store{
		"memory": NewMemory(nil),
		"redis":  NewRedis(rs.Client(t), fmt.Sprintf("t%d:", time.Now().UnixNano())),
	}
}

func TestTakeIsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			minute := Counter{Key: "p:m", Limit: 2, TTL: time.Minute}
			day := Counter{Key: "p:d", Limit: 3, TTL: time.Hour}
			for i := 1; i <= 2; i++ {
				r, err := s.Take(ctx, []Counter{minute, day})
				if err != nil || !r.OK || r.Counts[0] != int64(i) || r.Counts[1] != int64(i) {
					t.Fatalf("take %d: %+v %v", i, r, err)
				}
			}
			r, err := s.Take(ctx, []Counter{minute, day})
			if err != nil || r.OK || r.Over != 0 || r.Counts[0] != 2 || r.Counts[1] != 2 {
				t.Fatalf("over the minute: %+v %v", r, err)
			}
			// A fresh minute window; the day counter now fills up.
			minute.Key = "p:m2"
			if r, _ := s.Take(ctx, []Counter{minute, day}); !r.OK || r.Counts[1] != 3 {
				t.Fatalf("third of the day: %+v", r)
			}
			r, _ = s.Take(ctx, []Counter{minute, day})
			if r.OK || r.Over != 1 || r.Counts[0] != 1 {
				t.Fatalf("over the day: %+v (the minute must not have moved)", r)
			}
			// Giving back frees one unit of each; never below zero.
			if err := s.Give(ctx, []Counter{minute, day}); err != nil {
				t.Fatal(err)
			}
			if r, _ := s.Take(ctx, []Counter{minute, day}); !r.OK || r.Counts[0] != 1 || r.Counts[1] != 3 {
				t.Fatalf("after give: %+v", r)
			}
			free := Counter{Key: "p:free", TTL: time.Minute}
			_ = s.Give(ctx, []Counter{free})
			if r, _ := s.Take(ctx, []Counter{free}); !r.OK || r.Counts[0] != 1 {
				t.Fatalf("give below zero: %+v", r)
			}
		})
	}
}

func TestTakeExactUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			c := []Counter{{Key: "c:d", Limit: 50, TTL: time.Minute}, {Key: "c:m", Limit: 1000, TTL: time.Minute}}
			var ok, over atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < 64; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 4; i++ {
						r, err := s.Take(ctx, c)
						if err != nil {
							t.Error(err)
							return
						}
						if r.OK {
							ok.Add(1)
						} else {
							over.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			if ok.Load() != 50 || over.Load() != 64*4-50 {
				t.Fatalf("granted %d, refused %d: want exactly 50 granted", ok.Load(), over.Load())
			}
		})
	}
}

func TestOnce(t *testing.T) {
	ctx := context.Background()
	for name, s := range stores(t) {
		t.Run(name, func(t *testing.T) {
			var n atomic.Int64
			var wg sync.WaitGroup
			for g := 0; g < 16; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if ok, err := s.Once(ctx, "warn", time.Minute); err == nil && ok {
						n.Add(1)
					}
				}()
			}
			wg.Wait()
			if n.Load() != 1 {
				t.Fatalf("Once was true %d times", n.Load())
			}
		})
	}
}

func TestMemoryExpires(t *testing.T) {
	now := time.Unix(1000, 0)
	m := NewMemory(func() time.Time { return now })
	c := []Counter{{Key: "k", Limit: 1, TTL: time.Minute}}
	if r, _ := m.Take(context.Background(), c); !r.OK {
		t.Fatal("first take refused")
	}
	if r, _ := m.Take(context.Background(), c); r.OK {
		t.Fatal("second take allowed")
	}
	now = now.Add(2 * time.Minute)
	if r, _ := m.Take(context.Background(), c); !r.OK || r.Counts[0] != 1 {
		t.Fatalf("after expiry: %+v", r)
	}
}

func TestRedisDownIsUnavailable(t *testing.T) {
	rs := redistest.Start(t)
	s := NewRedis(rs.Client(t), "x:")
	rs.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := s.Take(ctx, []Counter{{Key: "k", Limit: 1, TTL: time.Minute}}); err == nil {
		t.Fatal("take against a stopped store succeeded")
	}
}
