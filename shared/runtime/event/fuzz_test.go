package event

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/idverify/idverify/shared/gateway"
)

// FuzzFromEvent checks that no payload makes decoding or response encoding
// panic, that decoding is consistent with Detect, and that Detect reads
// every payload as the reference decoding it with encoding/json does. Run
// longer with go test -fuzz=FuzzFromEvent ./shared/runtime/event.
func FuzzFromEvent(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	for _, name := range files {
		f.Add(readEvent(f, filepath.Base(name)))
	}
	f.Add([]byte(`{"httpMethod":"GET","path":"/","queryString":{"a":[true]}}`))
	f.Add([]byte(`{"version":"2.0","requestContext":{"http":{}},"isBase64Encoded":true,"body":"=="}`))
	f.Add([]byte(`{"Type":"timer","TriggerName":"t","Time":"","Message":"[]"}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		if got, want := Detect(payload), detectByMaps(payload); got != want {
			t.Fatalf("Detect %s, encoding/json's maps %s", got, want)
		}
		// A timer is a direct payload whose argument is a JSON object, or
		// an error and no argument.
		if direct, timer, err := TimerPayload(payload); timer {
			if Detect(payload) != Direct {
				t.Fatalf("timer event detected as %s", Detect(payload))
			}
			if (err == nil) != (direct != nil) || direct != nil && (direct[0] != '{' || !json.Valid(direct)) {
				t.Fatalf("timer argument %q, %v", direct, err)
			}
		} else if direct != nil || err != nil {
			t.Fatalf("not a timer, yet %q, %v", direct, err)
		}
		req, kind, ok, err := FromEvent(payload)
		if kind != Detect(payload) {
			t.Fatalf("FromEvent kind %s, Detect %s", kind, Detect(payload))
		}
		if ok != (kind != Direct) {
			t.Fatalf("ok %v for kind %s", ok, kind)
		}
		if !ok {
			return
		}
		if err == nil && (req == nil || req.Header == nil) {
			t.Fatalf("ok event without request or header: %+v", req)
		}
		if err == nil {
			if _, err := ToResponse(kind, &gateway.Response{Status: 200, Header: req.Header, Body: req.Body}); err != nil {
				t.Fatalf("ToResponse: %v", err)
			}
		}
	})
}
