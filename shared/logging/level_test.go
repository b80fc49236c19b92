package logging

import (
	"log/slog"
	"strings"
	"testing"
)

func TestLevelFromEnv(t *testing.T) {
	for in, want := range map[string]slog.Level{
		"": slog.LevelInfo, "  ": slog.LevelInfo, "debug": slog.LevelDebug, "DEBUG": slog.LevelDebug,
		"Info": slog.LevelInfo, " warn ": slog.LevelWarn, "error": slog.LevelError,
	} {
		if got, err := LevelFromEnv(in); err != nil || got != want {
			t.Errorf("LevelFromEnv(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"verbose", "warning", "info+2", "DEBUG-4", "trace", "0", "s3cr3t-key-pasted-here"} {
		_, err := LevelFromEnv(in)
		if err == nil {
			t.Errorf("LevelFromEnv(%q) accepted", in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "IDV_LOG_LEVEL") || !strings.Contains(msg, "debug, info, warn, error") {
			t.Errorf("LevelFromEnv(%q): %q does not name the variable and the accepted values", in, msg)
		}
		if strings.Contains(strings.ToLower(msg), strings.ToLower(in)) && in != "0" {
			t.Errorf("LevelFromEnv(%q): the value appears in %q", in, msg)
		}
	}
}

func TestParseLevelLenient(t *testing.T) {
	if ParseLevel("verbose") != slog.LevelInfo || ParseLevel("warn") != slog.LevelWarn {
		t.Error("ParseLevel")
	}
}
