package app

import (
	"strings"
	"testing"
)

func TestChooseMode(t *testing.T) {
	cases := []struct {
		env, mode string
		creds     bool
		want      string
		errHas    string
	}{
		{"", "", false, ModeSandbox, ""},
		{"", "", true, ModeLive, ""},
		{"production", "", true, ModeLive, ""},
		{"production", "", false, "", "refusing to fall back"},
		{"production", "sandbox", false, ModeSandbox, ""},
		{"", "live", false, "", "no provider credentials"},
		{"", "LIVE", true, ModeLive, ""},
		{"", "sandbox", true, ModeSandbox, ""},
		{"", "fake", true, "", "is not a mode"},
	}
	for _, c := range cases {
		got, err := chooseMode(c.env, c.mode, c.creds)
		if c.errHas != "" {
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Errorf("chooseMode(%q,%q,%v) error = %v, want it to mention %q", c.env, c.mode, c.creds, err, c.errHas)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("chooseMode(%q,%q,%v) = %q, %v; want %q", c.env, c.mode, c.creds, got, err, c.want)
		}
	}
}
