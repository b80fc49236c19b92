// Package precheck decodes and validates a FaceID request before any paid
// upstream call. A request that fails is answered the way Tencent would
// answer it: with the action's own business result code where Tencent has one
// for that input (IdCardVerification "-2" 非法身份证号), or with an API error
// (MissingParameter, InvalidParameterValue...) naming the field and the rule.
package precheck

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceid"
)

// decode reads params strictly into the action's request model. The checks
// go from cheapest to dearest, so that a hostile body costs at most one
// streaming pass: size, then shape (UTF-8, syntax, depth, value count,
// unknown and duplicate keys), and only then the full decode.
func decode(a *faceid.Action, params []byte) (any, error) {
	if err := checkSize(a, params); err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(params)) == 0 {
		params = []byte("{}")
	}
	req := a.NewRequest()
	if err := checkShape(reflect.TypeOf(req), params); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errs.E(errs.Invalid, "InvalidParameter", "request body has data after the JSON object")
	}
	return req, nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return errs.Wrap(err, errs.Invalid, "InvalidParameter", "request body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errs.Wrap(err, errs.Invalid, "InvalidParameter", "request body must be a JSON object")
		}
		return errs.Wrap(err, errs.Invalid, "InvalidParameterValue", "field %s must be %s, not %s", typ.Field, jsonKind(typ.Type.String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errs.Wrap(err, errs.Invalid, "InvalidParameter", "request body is truncated JSON")
	}
	// encoding/json reports unknown fields only as text: json: unknown field "X".
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return errs.Wrap(err, errs.Invalid, "UnknownParameter", "unknown field %s: this action does not take it", name)
	}
	return errs.Wrap(err, errs.Invalid, "InvalidParameter", "request body cannot be decoded")
}

// jsonKind names a Go model type the way a JSON caller thinks of it.
func jsonKind(goType string) string {
	t := strings.TrimLeft(goType, "*")
	switch {
	case strings.HasPrefix(t, "[]"):
		return "an array"
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case t == "int64":
		return "an integer"
	case t == "float64":
		return "a number"
	default:
		return fmt.Sprintf("an object (%s)", strings.TrimPrefix(t, "faceid."))
	}
}
