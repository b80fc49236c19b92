package precheck

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/jsonshape"
)

// checkShape makes one streaming pass over params (package jsonshape),
// walking the request model's type alongside. It refuses, before any model
// is allocated:
//   - invalid UTF-8, and anything that is not one JSON object;
//   - nesting deeper than MaxDepth and more than MaxValues values;
//   - a key the model does not have, named with its path
//     ("Encryption.Ivv"), including a key that differs from a field only in
//     case: encoding/json would accept "idcard" for IdCard, but the body is
//     forwarded to Tencent as sent, so what is checked here must be what
//     Tencent reads;
//   - the same key twice in one object, for the same reason: encoding/json
//     keeps the last value, another parser may keep the first.
//
// Types of values are left to the full decode, which names the field. It
// returns where the string values of the top-level members named in media
// lie.
func checkShape(model reflect.Type, params []byte, media []string) ([]jsonshape.Span, error) {
	spans, err := jsonshape.CheckStrings(model, params, jsonshape.Limits{MaxDepth: MaxDepth, MaxValues: MaxValues}, media)
	if err == nil {
		return spans, nil
	}
	return nil, shapeError(err)
}

func shapeError(err error) error {
	var e *jsonshape.Error
	if !errors.As(err, &e) {
		return errs.Wrap(err, errs.Invalid, "InvalidParameter", "request body cannot be decoded")
	}
	switch e.Kind {
	case jsonshape.InvalidUTF8:
		return errs.Wrap(e, errs.Invalid, "InvalidParameter", "request body is not valid UTF-8")
	case jsonshape.Truncated:
		return errs.Wrap(e, errs.Invalid, "InvalidParameter", "request body is truncated JSON")
	case jsonshape.Syntax:
		return errs.Wrap(e, errs.Invalid, "InvalidParameter", "request body is not valid JSON (at byte %d)", e.Offset)
	case jsonshape.NotObject:
		return errs.Wrap(e, errs.Invalid, "InvalidParameter", "request body must be a JSON object")
	case jsonshape.TrailingData:
		return errs.Wrap(e, errs.Invalid, "InvalidParameter", "request body has data after the JSON object")
	case jsonshape.TooDeep:
		return errs.Wrap(e, errs.Invalid, "InvalidParameter", "request body nests objects and arrays more than %d levels deep (at %s)", MaxDepth, quote(e.Path))
	case jsonshape.TooManyValues:
		return errs.Wrap(e, errs.Invalid, "InvalidParameter", "request body has more than %d JSON values", MaxValues)
	case jsonshape.DuplicateKey:
		return errs.Wrap(e, errs.Invalid, "InvalidParameter", "field %s appears more than once", quote(e.Path))
	case jsonshape.UnknownField:
		if e.Suggest != "" {
			return errs.Wrap(e, errs.Invalid, "UnknownParameter", "unknown field %s: field names are case-sensitive, did you mean %s?",
				quote(e.Path), quote(e.Suggest))
		}
		return errs.Wrap(e, errs.Invalid, "UnknownParameter", "unknown field %s: this action does not take it", quote(e.Path))
	}
	return errs.Wrap(e, errs.Invalid, "InvalidParameter", "request body cannot be decoded")
}

// quote bounds a caller-chosen name before it goes into a message.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("%q", s)
}
