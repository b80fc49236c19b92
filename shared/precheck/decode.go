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
	"github.com/idverify/idverify/shared/jsonshape"
	"github.com/idverify/idverify/shared/validate"
)

// decode reads params strictly into the action's request model. The checks
// go from cheapest to dearest, so that a hostile body costs at most one
// streaming pass: size, then shape (UTF-8, syntax, depth, value count,
// unknown and duplicate keys), and only then the full decode.
//
// Media values (a base64 image or video, megabytes) are not decoded: the
// shape pass says where each one lies in params, and the full decode reads
// a copy of params in which each stands replaced by a short stand-in ("A",
// or "" when the value is blank, which is all the required-field check
// needs to know). Check validates the value itself where it lies. So a 6 MB
// body costs a few KiB here, not another 6 MB string and a decoder buffer.
func decode(a *faceid.Action, params []byte) (any, media, error) {
	if err := checkSize(a, params); err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(params)) == 0 {
		params = []byte("{}")
	}
	req := a.NewRequest()
	spans, err := checkShape(reflect.TypeOf(req), params, mediaFields(a))
	if err != nil {
		return nil, nil, err
	}
	doc := params
	var m media
	if len(spans) > 0 {
		m = make(media, len(spans))
		doc = make([]byte, 0, len(params)-mediaLen(spans)+4*len(spans))
		prev := 0
		for _, sp := range spans {
			lit := params[sp.Start:sp.End]
			m[sp.Name] = lit
			doc = append(doc, params[prev:sp.Start]...)
			if validate.BlankJSON(lit) {
				doc = append(doc, `""`...)
			} else {
				doc = append(doc, `"A"`...)
			}
			prev = sp.End
		}
		doc = append(doc, params[prev:]...)
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(req); err != nil {
		return nil, nil, decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errs.E(errs.Invalid, "InvalidParameter", "request body has data after the JSON object")
	}
	return req, m, nil
}

// media maps each media field sent as a string to its JSON literal in the
// body, quotes included.
type media map[string][]byte

// locateMedia is false only in the test that compares Check with the
// media decoded as any other field.
var locateMedia = true

func mediaFields(a *faceid.Action) []string {
	if len(a.Media) == 0 || !locateMedia {
		return nil
	}
	names := make([]string, len(a.Media))
	for i, m := range a.Media {
		names[i] = m.Field
	}
	return names
}

func mediaLen(spans []jsonshape.Span) int {
	n := 0
	for _, sp := range spans {
		n += sp.End - sp.Start
	}
	return n
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
