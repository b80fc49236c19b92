package runtimes

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// echoBin builds the test function once per test process.
func echoBin(t testing.TB) string {
	return Build(t, "./tests/runtimes/testdata/echofn")
}

var eventsDir = filepath.Join("..", "..", "events")

func readEvent(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(eventsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
