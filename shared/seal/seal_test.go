package seal

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func key(t *testing.T) []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSealOpenRotateAndSlots(t *testing.T) {
	k1, k2 := key(t), key(t)
	old, _ := New(k1)
	cur, err := New(k2, k1)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte(`{"name":"张三","idNo":"110101199003074477"}`)
	blob, err := old.Seal("job:1", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, []byte("110101199003074477")) || bytes.Contains(blob, []byte("张三")) {
		t.Fatal("sealed record shows its content")
	}
	if got, err := cur.Open("job:1", blob); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("rotated keys do not open an old record: %v", err)
	}
	if _, err := cur.Open("job:2", blob); !errors.Is(err, ErrOpen) {
		t.Fatalf("a record moved to another slot opened: %v", err)
	}
	other, _ := New(key(t))
	if _, err := other.Open("job:1", blob); !errors.Is(err, ErrOpen) {
		t.Fatalf("a foreign key opened the record: %v", err)
	}
	var none *Keys
	plain, _ := none.Seal("job:1", secret)
	if got, err := none.Open("job:1", plain); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("plain framing: %v", err)
	}
	if _, err := cur.Open("job:1", plain); !errors.Is(err, ErrOpen) {
		t.Fatal("a sealing store accepted a plain record")
	}
	if _, err := none.Open("job:1", blob); !errors.Is(err, ErrOpen) {
		t.Fatal("a plain store misread a sealed record")
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestParseKeyNeverEchoes(t *testing.T) {
	if k, err := ParseKey("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="); err != nil || len(k) != KeySize {
		t.Fatalf("%v", err)
	}
	_, err := ParseKey("not-a-key-but-a-secret")
	if err == nil || strings.Contains(err.Error(), "not-a-key") {
		t.Fatalf("%v", err)
	}
}
