package errs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DescribeJSON says what is wrong with a configuration value that
// encoding/json refused: where, and the rule, never a value (a syntax
// error's own message quotes the offending character, which could be part
// of a key). known lists the fields allowed, for an unknown one.
func DescribeJSON(err error, known string) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Sprintf("%s: want %s, got %s", typ.Field, typ.Type, typ.Value)
		}
		return fmt.Sprintf("want %s, got %s", typ.Type, typ.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	}
	// encoding/json: `json: unknown field "x"`; the field name is the
	// configuration's own key, safe to show.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if len(name) > 66 {
			name = name[:66] + "..."
		}
		return "unknown field " + strings.ToValidUTF8(name, "?") + " (known: " + known + ")"
	}
	if err.Error() == "unexpected data after the JSON value" {
		return err.Error()
	}
	return "invalid JSON"
}
