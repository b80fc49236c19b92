package resp_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/resp"
	"github.com/idverify/idverify/tests/redistest"
)

// These tests run the client against a real redis-server and check what it
// wrote with go-redis (redistest.Inspect), an independent implementation.

func TestCommands(t *testing.T) {
	srv := redistest.Start(t)
	c, ins := srv.Client(t), srv.Inspect(t)
	ctx := context.Background()

	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "missing").Bytes(); !errors.Is(err, resp.Nil) {
		t.Fatalf("GET missing: %v, want Nil", err)
	}
	bin := []byte("a\r\nb\x00c")
	if err := c.Set(ctx, "k", bin, 1500*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Get(ctx, "k").Bytes(); err != nil || string(got) != string(bin) {
		t.Fatalf("GET = %q, %v", got, err)
	}
	if ttl := ins.PTTL(ctx, "k").Val(); ttl <= 0 || ttl > 1500*time.Millisecond {
		t.Fatalf("PTTL = %v", ttl)
	}
	if err := c.Set(ctx, "forever", "v", 0).Err(); err != nil || ins.TTL(ctx, "forever").Val() != -1 {
		t.Fatalf("SET without ttl: %v, ttl %v", err, ins.TTL(ctx, "forever").Val())
	}
	if ok, err := c.SetNX(ctx, "nx", "first", time.Minute).Bool(); err != nil || !ok {
		t.Fatalf("SETNX new: %v %v", ok, err)
	}
	if ok, err := c.SetNX(ctx, "nx", "second", time.Minute).Bool(); err != nil || ok {
		t.Fatalf("SETNX taken: %v %v", ok, err)
	}
	if v := ins.Get(ctx, "nx").Val(); v != "first" {
		t.Fatalf("nx = %q", v)
	}
	if _, err := c.Tx(ctx, []any{"SET", "tx", "1", "PX", 60000}, []any{"ZADD", "z", 2.5, "b"}, []any{"ZADD", "z", 1, "a"}); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ZRange(ctx, "z", 0, -1).StringSlice(); err != nil || strings.Join(got, ",") != "a,b" {
		t.Fatalf("ZRANGE = %v, %v", got, err)
	}
	if s := ins.ZScore(ctx, "z", "b").Val(); s != 2.5 {
		t.Fatalf("score %v", s)
	}
	if err := c.ZRem(ctx, "z", "a").Err(); err != nil || ins.ZCard(ctx, "z").Val() != 1 {
		t.Fatalf("ZREM: %v", err)
	}
	// A failing command inside a transaction is its error.
	if _, err := c.Tx(ctx, []any{"SET", "tx2", "1"}, []any{"INCR", "nx"}); err == nil {
		t.Fatal("INCR of a string inside MULTI succeeded")
	}
	// An error answer leaves the connection usable.
	var e resp.Error
	if err := c.Do(ctx, "NOSUCHCOMMAND").Err(); !errors.As(err, &e) {
		t.Fatalf("unknown command: %v", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestScriptLoadsWhenFlushed(t *testing.T) {
	srv := redistest.Start(t)
	c, ins := srv.Client(t), srv.Inspect(t)
	ctx := context.Background()
	s := resp.NewScript(`redis.call('SET', KEYS[1], ARGV[1]) return {tonumber(ARGV[2]), 7, ARGV[1]}`)
	for i := 0; i < 2; i++ {
		if err := ins.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		got, err := s.Run(ctx, c, []string{"sk"}, "val", int64(41+i)).StringSlice()
		if err != nil || strings.Join(got, ",") != fmt.Sprintf("%d,7,val", 41+i) {
			t.Fatalf("run %d: %v %v", i, got, err)
		}
	}
	n, err := resp.NewScript(`return {1, 2, 3}`).Run(ctx, c, nil).Int64Slice()
	if err != nil || len(n) != 3 || n[2] != 3 {
		t.Fatalf("Int64Slice %v %v", n, err)
	}
	if v, err := resp.NewScript(`return 5`).Run(ctx, c, nil).Int(); err != nil || v != 5 {
		t.Fatalf("Int %v %v", v, err)
	}
	if err := resp.NewScript(`return redis.error_reply('MINE')`).Run(ctx, c, nil).Err(); err == nil || !strings.Contains(err.Error(), "MINE") {
		t.Fatalf("error reply: %v", err)
	}
}

func TestAuthAndDatabase(t *testing.T) {
	srv := redistest.Start(t)
	ins := srv.Inspect(t)
	ctx := context.Background()
	if err := ins.Do(ctx, "ACL", "SETUSER", "app", "on", ">app-pass", "~*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	o, err := resp.ParseURL("redis://app:app-pass@" + srv.Addr + "/3")
	if err != nil {
		t.Fatal(err)
	}
	c := resp.NewClient(o)
	defer c.Close()
	if err := c.Set(ctx, "in3", "yes", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if ins.Exists(ctx, "in3").Val() != 0 || ins.Do(ctx, "SELECT", 3).Err() != nil {
		t.Fatal("SELECT was not applied")
	}
	bad, _ := resp.ParseURL("redis://app:wrong@" + srv.Addr)
	cb := resp.NewClient(bad)
	defer cb.Close()
	if err := cb.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("wrong password: %v", err)
	}
}

// TestStaleConnectionRetried: a pooled connection the server closed (idle
// timeout, failover) costs nothing: the request, which never reached the
// server, is sent again on a new connection.
func TestStaleConnectionRetried(t *testing.T) {
	srv := redistest.Start(t)
	c, ins := srv.Client(t), srv.Inspect(t)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := ins.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if err := c.Set(ctx, "after", "kill", 0).Err(); err != nil {
		t.Fatalf("after the server closed the pooled connection: %v", err)
	}
	// With retries off the stale connection's failure is the answer.
	off := resp.NewClient(&resp.Options{Addr: srv.Addr, MaxRetries: -1})
	defer off.Close()
	if err := off.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_ = ins.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err()
	time.Sleep(50 * time.Millisecond)
	if off.Ping(ctx).Err() == nil {
		// A write into a closed socket can succeed locally; the read fails.
		t.Log("the first write after the kill was accepted locally")
	}
	if err := off.Ping(ctx).Err(); err != nil {
		t.Fatalf("a fresh connection after a failed one: %v", err)
	}
}

// TestDeadlines: a command that outlives its context or the read timeout
// fails in time, and its connection is not reused (its answer may still
// come).
func TestDeadlines(t *testing.T) {
	srv := redistest.Start(t)
	c := resp.NewClient(&resp.Options{Addr: srv.Addr, ReadTimeout: 300 * time.Millisecond})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := c.Do(ctx, "BLPOP", "never", 5).Err()
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(begin) > time.Second {
		t.Fatalf("BLPOP past the deadline: %v after %v", err, time.Since(begin))
	}
	begin = time.Now()
	if err := c.Do(context.Background(), "BLPOP", "never", 5).Err(); err == nil || time.Since(begin) > 2*time.Second {
		t.Fatalf("BLPOP past the read timeout: %v after %v", err, time.Since(begin))
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("ping after the server stopped")
	}
}

func TestConcurrentUse(t *testing.T) {
	srv := redistest.Start(t)
	c := resp.NewClient(&resp.Options{Addr: srv.Addr, PoolSize: 4})
	defer c.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				k := fmt.Sprintf("g%d:%d", g, i)
				if err := c.Set(ctx, k, k, time.Minute).Err(); err != nil {
					t.Error(err)
					return
				}
				if v, err := c.Get(ctx, k).Text(); err != nil || v != k {
					t.Errorf("%s = %q %v", k, v, err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("a closed client answered")
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		url              string
		addr, user, pass string
		db               int
		tls, wantErr     bool
	}{
		{url: "redis://localhost:6380/2", addr: "localhost:6380", db: 2},
		{url: "redis://h", addr: "h:6379"},
		{url: "redis://:pw@h:1", addr: "h:1", pass: "pw"},
		{url: "redis://u:pw@h:1/0", addr: "h:1", user: "u", pass: "pw"},
		{url: "redis://pw@h", addr: "h:6379", pass: "pw"},
		{url: "rediss://u:p%40ss@cache.example.com", addr: "cache.example.com:6379", user: "u", pass: "p@ss", tls: true},
		{url: "redis://[::1]:7000", addr: "[::1]:7000"},
		{url: "http://h", wantErr: true},
		{url: "redis://h/x", wantErr: true},
		{url: "redis://h?dial_timeout=3s", wantErr: true},
		{url: "unix:///tmp/redis.sock", wantErr: true},
	} {
		o, err := resp.ParseURL(c.url)
		if c.wantErr {
			if err == nil {
				t.Errorf("%s: no error", c.url)
			}
			continue
		}
		if err != nil || o.Addr != c.addr || o.Username != c.user || o.Password != c.pass || o.DB != c.db || (o.TLS != nil) != c.tls {
			t.Errorf("%s: %+v %v", c.url, o, err)
		}
		if c.tls && o.TLS.ServerName != "cache.example.com" {
			t.Errorf("%s: server name %q", c.url, o.TLS.ServerName)
		}
	}
}

// TestMalformedAnswers: the reader refuses what is not RESP2 instead of
// guessing.
func TestMalformedAnswers(t *testing.T) {
	for _, in := range []string{"", "x\r\n", "$3\r\nab\r\n", "$-2\r\n", ":1x\r\n", "*2\r\n:1\r\n", "+OK\n", "$99999999999\r\n"} {
		if _, err := resp.ReadValueForTest(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	v, err := resp.ReadValueForTest(bufio.NewReader(strings.NewReader("*3\r\n$-1\r\n-ERR x\r\n*1\r\n:5\r\n")))
	if err != nil || v == nil {
		t.Fatalf("%v %v", v, err)
	}
}
