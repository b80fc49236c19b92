package runtimes

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		// The black-box tests build and drive real binaries (and npm
		// packages): scripts/test.sh runs them; --quick (-short) does not.
		fmt.Println("skipped in -short mode: black-box tests of the real binaries")
		os.Exit(0)
	}
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
