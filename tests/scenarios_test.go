package tests

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/idverify/idverify/shared/sandbox"
)

// TestServedScenariosHoldThroughTheServer fetches the table the server
// publishes at /v1/sandbox/scenarios and replays every invalid-input and
// magic-value row against the same server: the whole path (precheck,
// sandbox, envelope) must give the documented outcome. Invalid input must
// be answered by precheck, never by the provider.
func TestServedScenariosHoldThroughTheServer(t *testing.T) {
	s := startServer(t, buildBinary(t, "all"))
	resp, err := http.Get(s.url + "/v1/sandbox/scenarios")
	if err != nil {
		t.Fatal(err)
	}
	var table struct{ Scenarios []sandbox.Scenario }
	err = json.NewDecoder(resp.Body).Decode(&table)
	resp.Body.Close()
	if err != nil || len(table.Scenarios) < 300 {
		t.Fatalf("scenario table: %v (%d rows)", err, len(table.Scenarios))
	}
	checked := 0
	for _, sc := range table.Scenarios {
		if sc.Start != nil || (sc.ReachedBy != sandbox.ReachedByMagic && sc.ReachedBy != sandbox.ReachedByInvalid) {
			continue
		}
		if sc.ResultField == "" || sc.ResultField != "Result" && sc.ResultField != "ResultCode" {
			continue // nested result paths are covered by the sandbox's own tests
		}
		r, err := http.Post(s.url+"/v1/faceid/"+sc.Action, "application/json", bytesReader(sc.Request))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		var env struct{ Response map[string]any }
		if err := json.Unmarshal(body, &env); err != nil {
			t.Fatalf("%s: %s", sc.Action, body)
		}
		got := env.Response[sc.ResultField]
		if s, ok := got.(string); !ok || s != sc.Result {
			t.Errorf("%s %s=%s: %s = %v, want %s", sc.Action, sc.Field, sc.Value, sc.ResultField, got, sc.Result)
		}
		source := r.Header.Get("X-Idv-Source")
		if sc.ReachedBy == sandbox.ReachedByInvalid && source != "precheck" {
			t.Errorf("%s %s: invalid input answered by %q, want precheck", sc.Action, sc.Field, source)
		}
		checked++
	}
	if checked < 150 {
		t.Fatalf("only %d rows replayed", checked)
	}
	t.Logf("replayed %d scenario rows through the server", checked)
}
