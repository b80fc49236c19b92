package sandbox

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/scenarios.md")

// TestMarkdownGolden keeps the documented table in testdata, so a change
// to the registry or the plans shows up in review as a diff of the table
// users read. Run with -update to accept a change.
func TestMarkdownGolden(t *testing.T) {
	got := Markdown(scenariosAt(t0))
	path := filepath.Join("testdata", "scenarios.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run MarkdownGolden -update)", err)
	}
	if got != string(want) {
		t.Errorf("Markdown differs from %s; run go test -run MarkdownGolden -update and review the diff", path)
	}
	for _, s := range scenariosAt(t0) {
		if !strings.Contains(got, "\n## "+s.Action+"\n") {
			t.Errorf("no section for %s", s.Action)
		}
	}
	// One row per scenario plus one header row per section.
	if strings.Count(got, "\n| ") != len(scenariosAt(t0))+strings.Count(got, "\n## ") {
		t.Error("table rows do not match scenarios")
	}
}

// TestScenariosJSON: the table survives a JSON round trip (the gateway
// serves it as JSON) and uses the documented keys; Scenarios hands out
// copies.
func TestScenariosJSON(t *testing.T) {
	in := scenariosAt(t0)
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out []Scenario
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Error("JSON round trip changed the table")
	}
	var raw []map[string]json.RawMessage
	json.Unmarshal(b, &raw)
	for _, k := range []string{"action", "request", "description", "charged", "reachedBy"} {
		if _, ok := raw[0][k]; !ok {
			t.Errorf("key %s missing", k)
		}
	}
	in[0].Request[0] = 'X'
	in[0].Description = "changed"
	if again := scenariosAt(t0); again[0].Request[0] != '{' || again[0].Description == "changed" {
		t.Error("Scenarios shares memory with the table")
	}
	p, _ := newTestProvider()
	if len(p.Scenarios()) != len(in) || len(Scenarios()) != len(in) {
		t.Error("Scenarios and Provider.Scenarios disagree")
	}
	if strings.Contains(string(b), billDatePlaceholder) {
		t.Error("the bill date placeholder was not filled in")
	}
}
