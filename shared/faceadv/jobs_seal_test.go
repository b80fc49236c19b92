package faceadv

import (
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/seal"
	"github.com/idverify/idverify/tests/redistest"
)

// Async jobs hold the name, ID number and photo for days: with store keys
// nothing of them is readable in Redis, and a job still reads back whole.
func TestJobsSealedInRedis(t *testing.T) {
	rs := redistest.Start(t)
	key := make([]byte, seal.KeySize)
	_, _ = rand.Read(key)
	keys, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	store := redisJobs{rdb: rs.Client(t), keys: keys}
	ctx := context.Background()
	j := &Job{TraceNo: "17000000000001234567", Action: "faceAdv", State: "pending", Created: time.Now().UTC().Truncate(time.Second),
		Request: Request{Type: "authmatch", Name: "王五", IDNo: "440304198506121230", UserID: "u1"}}
	if err := store.put(ctx, j); err != nil {
		t.Fatal(err)
	}
	raw, err := rs.Inspect(t).Get(ctx, jobPrefix+j.TraceNo).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	for _, pii := range []string{"王五", "440304198506121230", "authmatch"} {
		if bytes.Contains(raw, []byte(pii)) {
			t.Fatalf("%q readable in Redis", pii)
		}
	}
	got, err := store.get(ctx, j.TraceNo)
	if err != nil || got == nil || got.Request.IDNo != j.Request.IDNo || got.Request.Name != j.Request.Name {
		t.Fatalf("read back %+v, %v", got, err)
	}
	// A store without the key cannot read it, rather than misread it.
	if _, err := (redisJobs{rdb: rs.Client(t)}).get(ctx, j.TraceNo); err == nil {
		t.Fatal("a job sealed with a key read back without it")
	}
}
