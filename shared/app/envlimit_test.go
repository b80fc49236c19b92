package app

import (
	"strings"
	"testing"
)

func TestEnvOverLimit(t *testing.T) {
	if msg := EnvOverLimit("SCF", "x", map[string]int{"a": EnvLimit}, map[string]int{"IDV_BUDGETS": 4000}); msg != "" {
		t.Fatalf("exactly at the limit refused: %s", msg)
	}
	msg := EnvOverLimit("Lambda", "the stack would roll back",
		map[string]int{"a": EnvLimit + 1, "b": 5000, "c": 5000, "d": 10},
		map[string]int{"IDV_BUDGETS": 3000, "IDV_USAGE_PRICES": 900, "IDV_CALLERS_REF": 40, "IDV_PERSON_LIMITS": 900, "EMPTY": 0})
	want := "the environment variables of 3 function(s) would be over Lambda's 4 KB per function (b: 5000 bytes), and the stack would roll back: " +
		"shorten the longest settings, IDV_BUDGETS (3000 bytes), IDV_PERSON_LIMITS (900 bytes), IDV_USAGE_PRICES (900 bytes)"
	if msg != want {
		t.Fatalf("got  %s\nwant %s", msg, want)
	}
	if strings.Contains(msg, "EMPTY") {
		t.Fatal("an empty setting named")
	}
}
