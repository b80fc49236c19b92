package precheck

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/faceid"
)

// checkBothWays runs Check with media validated in place and with media
// decoded like any other field (as it was before), and wants the same
// answer: the same local result or the same error, and the same request
// apart from the media values themselves.
func checkBothWays(t *testing.T, a *faceid.Action, body string) {
	t.Helper()
	req, local, err := Check(a, []byte(body))
	locateMedia = false
	oreq, olocal, oerr := Check(a, []byte(body))
	locateMedia = true
	if fmt.Sprint(err) != fmt.Sprint(oerr) || !reflect.DeepEqual(local, olocal) {
		t.Fatalf("%s %.200s:\n in place: %v %+v\n decoded:  %v %+v", a.Name, body, err, local, oerr, olocal)
	}
	if req == nil || oreq == nil {
		if (req == nil) != (oreq == nil) {
			t.Fatalf("%s %.200s: request %v vs %v", a.Name, body, req, oreq)
		}
		return
	}
	v, ov := reflect.ValueOf(req).Elem(), reflect.ValueOf(oreq).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if _, isMedia := a.MediaLimit(name); isMedia {
			if v.Field(i).IsNil() != ov.Field(i).IsNil() {
				t.Fatalf("%s %.200s: %s presence differs", a.Name, body, name)
			}
			continue
		}
		if !reflect.DeepEqual(v.Field(i).Interface(), ov.Field(i).Interface()) {
			t.Fatalf("%s %.200s: field %s differs", a.Name, body, name)
		}
	}
}

var mediaValues = []string{
	`"QUJD"`, `"QU\/D"`, `"QUI="`, `"QQ=="`, `"Q==="`, `""`, `"  "`, `"\u0020"`, `"\u00a0"`, `"data:image/jpeg;base64,QUJD"`,
	`"QU-D"`, `"QU D"`, `"QU\nD"`, `"QUJ"`, `"张三QU"`, `"\u0051UJD"`, `"\ud800AAA"`, `null`, `1`, `true`, `{}`, `["QUJD"]`,
	`"` + strings.Repeat("QUJD", 5000) + `"`, `"` + strings.Repeat("QU\\/D", 3000) + `="`,
}

// Every media action, every media field, every kind of value, with and
// without the other required fields, in either order.
func TestMediaInPlaceSameAnswers(t *testing.T) {
	for _, a := range faceid.All() {
		for _, m := range a.Media {
			for _, v := range mediaValues {
				for _, body := range []string{
					`{"` + m.Field + `":` + v + `}`,
					`{"` + m.Field + `":` + v + `,"LivenessType":"SILENT","ActionType":"SILENT","IdCard":"110101199003074477","Name":"张三","Encryption":{"EncryptList":["` + m.Field + `"]}}`,
					` { "LivenessType" : "SILENT" , "IdCard":"110101199003074478", "Name":"张三", "` + m.Field + `" : ` + v + ` } `,
					`{"` + m.Field + `":` + v + `,"` + m.Field + `":"QUJD"}`,
					`{"` + m.Field + `":` + v + `,"Unknown":1}`,
					`{"` + m.Field + `":` + v + `,"Name":5}`,
				} {
					checkBothWays(t, a, body)
				}
			}
		}
	}
}

func FuzzMediaInPlace(f *testing.F) {
	for _, v := range mediaValues[:len(mediaValues)-2] {
		f.Add(uint8(0), `{"ImageBase64":`+v+`,"LivenessType":"SILENT"}`)
	}
	var media []*faceid.Action
	for _, a := range faceid.All() {
		if len(a.Media) > 0 {
			media = append(media, a)
		}
	}
	f.Fuzz(func(t *testing.T, i uint8, body string) {
		checkBothWays(t, media[int(i)%len(media)], body)
	})
}
