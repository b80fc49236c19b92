//go:build unix

package idempotency

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/resp"
	"github.com/idverify/idverify/tests/redistest"
)

// A Redis that stalls (SIGSTOP) and resumes (SIGCONT) applies the writes
// whose clients already timed out. A key whose first attempt failed in the
// store, and so never reached the provider, must be claimable again soon
// after: not "in progress" and then "outcome unknown" for 24 hours.

// stalled is a private redis-server that can be paused, with a client
// configured as the app's (shared/app redisFrom): fail fast, one retry.
type stalled struct {
	srv *redistest.Server
	pid int
	app *resp.Client
}

func startStallable(t *testing.T) *stalled {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed (Debian: apt-get install -y redis-server)")
	}
	srv := redistest.Start(t)
	info, err := srv.Inspect(t).Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	pid := 0
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "process_id:"); ok {
			pid, _ = strconv.Atoi(v)
		}
	}
	if pid <= 0 {
		t.Fatal("INFO server has no process_id")
	}
	st := &stalled{srv: srv, pid: pid}
	// Registered after Start's cleanup, so it runs first: never leave a
	// stopped server behind.
	t.Cleanup(func() { st.resume(t) })
	st.app = resp.NewClient(&resp.Options{Addr: srv.Addr, MaxRetries: 1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	t.Cleanup(func() { _ = st.app.Close() })
	return st
}

func (s *stalled) pause(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(s.pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
}

func (s *stalled) resume(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(s.pid, syscall.SIGCONT); err != nil {
		t.Error(err)
	}
}

// untilClaimed polls Begin on key until it hands out a claim, failing on
// anything but "in progress" (OutcomeUnknown is the bug) or after limit.
func untilClaimed(t *testing.T, s *Store, key string, limit time.Duration) *Claim {
	t.Helper()
	start := time.Now()
	for i := 0; ; i++ {
		c, rec, err := s.Begin(ctx, scope, key, fp("body"))
		switch {
		case c != nil:
			t.Logf("%s claimable again after %v (%d tries)", key, time.Since(start).Round(time.Millisecond), i+1)
			return c
		case rec != nil:
			t.Fatalf("%s: a record for a request never sent", key)
		case errs.As(err).Code != "IdempotencyInProgress":
			t.Fatalf("%s: Begin = %v; want a claim, or in progress for a while", key, err)
		}
		if time.Since(start) > limit {
			t.Fatalf("%s still in progress after %v: a failed claim was not released", key, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRedisStallDuringBeginFreesTheKey(t *testing.T) {
	st := startStallable(t)
	s := NewRedis(st.app, "idem:", WithClaimLease(2*time.Second))
	// Warm up: the scripts are cached and a connection is open, so the
	// stalled write is a plain EVALSHA that applies on resume, as in
	// production.
	warm := begin(t, s, scope, "warm", fp("body"))
	if err := warm.Release(ctx); err != nil {
		t.Fatal(err)
	}

	st.pause(t)
	bctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	start := time.Now()
	c, rec, err := s.Begin(bctx, scope, "k", fp("body"))
	cancel()
	wantCode(t, err, errs.Unavailable, "IdempotencyStoreUnavailable")
	if c != nil || rec != nil {
		t.Fatal("a stalled store handed out a claim")
	}
	t.Logf("Begin refused after %v", time.Since(start).Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond) // the first cleanup try meets the stall too
	st.resume(t)

	// Freed by the background cleanup, or at the latest by the 2 s claim
	// lease: well inside the bound, never 24 hours.
	other := NewRedis(st.srv.Client(t), "idem:", WithClaimLease(2*time.Second))
	c = untilClaimed(t, other, "k", 20*time.Second)
	sending(t, c)
	if err := c.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
	s.bg.Wait() // bounded: the cleanup has finished or given up
}

func TestRedisStallDuringSendingFreesTheKey(t *testing.T) {
	st := startStallable(t)
	// The default claim lease (15 s) outlasts the stall, so the Sending
	// write applies on resume and the record becomes pending ("sent"): only
	// the cleanup of the failed Sending frees it, which it may because that
	// claim never sent.
	s := NewRedis(st.app, "idem:")
	warm := begin(t, s, scope, "warm", fp("body")) // scripts cached, as in production
	sending(t, warm)
	if err := warm.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	c := begin(t, s, scope, "k", fp("body"))

	st.pause(t)
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := c.Sending(sctx)
	cancel()
	wantCode(t, err, errs.Unavailable, "IdempotencyStoreUnavailable")
	// The pipeline does not call the provider, and this claim never will.
	wantCode(t, c.Sending(ctx), errs.Conflict, "IdempotencyClaimLost")
	time.Sleep(300 * time.Millisecond)
	st.resume(t)
	if v, err := st.srv.Inspect(t).HGet(ctx, s.storeKey(scope, "k"), "st").Result(); err == nil {
		t.Logf("record state just after resume: %q", v)
	}

	other := NewRedis(st.srv.Client(t), "idem:")
	c2 := untilClaimed(t, other, "k", 40*time.Second)
	sending(t, c2)
	if err := c2.Complete(ctx, answer); err != nil {
		t.Fatal(err)
	}
	// The late cleanup of the failed claim does not touch the new answer.
	s.bg.Wait()
	sameRecord(t, replay(t, s, scope, "k", fp("body")), answer)
}
