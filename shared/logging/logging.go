// Package logging builds the structured JSON logger every function uses. Logs
// carry request id, caller, action, result code, latency and error class,
// never request bodies; as a second line of defence, attributes whose key
// names personal data or a secret are replaced before they are written.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
)

// Redacted replaces the value of a sensitive attribute.
const Redacted = "[redacted]"

// sensitiveKeys are attribute keys (case-insensitive) that must never carry
// a value into a log: FaceID field names for personal data and media, and
// anything that looks like a credential.
var sensitiveKeys = []string{
	"idcard", "idnum", "idno", "name", "phone", "mobile", "bankcard",
	"image", "video", "photo", "base64", "faceinput", "picture", "portrait",
	"secret", "password", "token", "authorization", "key", "signature", "body",
}

// Sensitive reports whether an attribute key must be redacted. It is asked
// for every attribute of every line, so the answers for the keys the code
// logs with are remembered (keys are constants in the code, never data; the
// memory is bounded all the same).
func Sensitive(key string) bool {
	if m := known.Load(); m != nil {
		if s, ok := (*m)[key]; ok {
			return s
		}
	}
	s := sensitive(key)
	remember(key, s)
	return s
}

// known maps keys already asked about to the answer; replaced, never
// changed, so that reading it takes no lock.
var known atomic.Pointer[map[string]bool]

const maxKnown = 512

func remember(key string, s bool) {
	for {
		old := known.Load()
		var m map[string]bool
		if old == nil {
			m = map[string]bool{key: s}
		} else {
			if len(*old) >= maxKnown {
				return
			}
			m = make(map[string]bool, len(*old)+1)
			for k, v := range *old {
				m[k] = v
			}
			m[key] = s
		}
		if known.CompareAndSwap(old, &m) {
			return
		}
	}
}

func sensitive(key string) bool {
	k := strings.ToLower(key)
	if k == "request_id" || k == "caller" || k == "action" || k == "msg" {
		return false
	}
	for _, s := range sensitiveKeys {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// New returns a JSON logger writing to w at level.
func New(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey) {
				return a
			}
			if Sensitive(a.Key) {
				return slog.String(a.Key, Redacted)
			}
			return a
		},
	}))
}

// LevelVar is the variable that sets the level.
const LevelVar = "IDV_LOG_LEVEL"

// LevelNames are the values LevelFromEnv accepts, in any case.
var LevelNames = []string{"debug", "info", "warn", "error"}

var levels = map[string]slog.Level{
	"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError,
}

// LevelFromEnv reads IDV_LOG_LEVEL strictly: one of LevelNames in any case,
// surrounding space ignored, empty meaning info. Anything else is an error
// naming the variable and the accepted values (never the value read, which
// could be a secret pasted into the wrong variable), so a typo such as
// "verbose" stops the start instead of silently logging at info.
func LevelFromEnv(s string) (slog.Level, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return slog.LevelInfo, nil
	}
	if l, ok := levels[s]; ok {
		return l, nil
	}
	return slog.LevelInfo, fmt.Errorf("%s is not a log level: use %s (any case; unset means info)", LevelVar, strings.Join(LevelNames, ", "))
}

// ParseLevel reads IDV_LOG_LEVEL-style text leniently: anything
// LevelFromEnv refuses means info. Start-up uses LevelFromEnv.
func ParseLevel(s string) slog.Level {
	l, _ := LevelFromEnv(s)
	return l
}
