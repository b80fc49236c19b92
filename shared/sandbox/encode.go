package sandbox

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// marshalAll encodes v like encoding/json but writes every struct field,
// a nil pointer as null and a nil slice as null. Tencent's answers carry
// every documented field and use null for "no value" (the docs' "此字段可能
// 返回 null"); the generated models carry omitempty for the sake of
// requests, so json.Marshal would silently drop fields a caller may test for.
func marshalAll(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	if err := writeValue(&b, reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeValue(b *bytes.Buffer, v reflect.Value) error {
	switch v.Kind() {
	case reflect.Invalid:
		b.WriteString("null")
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		return writeValue(b, v.Elem())
	case reflect.Struct:
		b.WriteByte('{')
		t := v.Type()
		first := true
		for i := range t.NumField() {
			f := t.Field(i)
			name := jsonName(f)
			if name == "" {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			key, _ := json.Marshal(name)
			b.Write(key)
			b.WriteByte(':')
			if err := writeValue(b, v.Field(i)); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case reflect.Slice:
		if v.IsNil() {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('[')
		for i := range v.Len() {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeValue(b, v.Index(i)); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	default:
		data, err := json.Marshal(v.Interface())
		if err != nil {
			return err
		}
		b.Write(data)
	}
	return nil
}

// jsonName is the JSON key of a struct field, "" when it is not encoded.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name
	}
	return f.Name
}

// field finds the exported struct field named name in *struct v; the
// generated models use Tencent's names for Go fields and JSON keys alike.
func field(v any, name string) (reflect.Value, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := rv.Elem().FieldByName(name)
	return f, f.IsValid() && f.CanSet()
}

// getString reads a *string field: its value and whether it was present.
func getString(v any, name string) (string, bool) {
	f, ok := field(v, name)
	if !ok || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
		return "", false
	}
	return f.Elem().String(), true
}

// hasField reports whether the model has a field called name.
func hasField(v any, name string) bool {
	_, ok := field(v, name)
	return ok
}

// setString sets a *string field, doing nothing when there is none.
func setString(v any, name, value string) {
	f, ok := field(v, name)
	if !ok || f.Type() != reflect.TypeFor[*string]() {
		return
	}
	f.Set(reflect.ValueOf(&value))
}
