package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSupplementMerged: the deprecated actions come from the supplement,
// not from Tencent's file (which scripts/refresh-spec rewrites), and reach
// the generated registry, README and deploy files marked deprecated.
func TestSupplementMerged(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	main, err := readSpec(filepath.Join(root, specPath))
	if err != nil {
		t.Fatal(err)
	}
	s, err := loadSpec(filepath.Join(root, specPath))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Actions) != len(main.Actions)+2 {
		t.Fatalf("%d actions, want the %d of the main spec and 2 from the supplement", len(s.Actions), len(main.Actions))
	}
	for _, a := range main.Actions {
		if a.Action == "Liveness" || a.Action == "ImageRecognition" {
			t.Errorf("%s is in Tencent's spec file; it belongs in the supplement", a.Action)
		}
	}
	deprecated := map[string]bool{}
	for _, a := range s.Actions {
		if a.Deprecated {
			deprecated[a.Action] = true
			if a.Deprecation == "" || a.Gateway.QPS <= 0 || a.Gateway.Billing == nil {
				t.Errorf("%s: deprecated without a reason, a QPS or billing facts", a.Action)
			}
		}
	}
	if len(deprecated) != 2 || !deprecated["Liveness"] || !deprecated["ImageRecognition"] {
		t.Fatalf("deprecated actions %v, want Liveness and ImageRecognition", deprecated)
	}
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string][]string{
		"shared/faceid/registry_gen.go":       {`Name: "Liveness", Function: "liveness"`, `Name: "ImageRecognition", Function: "image-recognition"`, "Deprecated: true"},
		"README.md":                           {"| Liveness (deprecated: no new users) | `functions/liveness` |", "| ImageRecognition (deprecated: no new users) | `functions/image-recognition` |"},
		"template.yaml":                       {"FaceID Liveness (POST /v1/faceid/Liveness); Tencent default limit 20 QPS; base64 media up to 8 MiB; deprecated by Tencent (no new users)"},
		"serverless.yml":                      {"deprecated by Tencent (no new users)"},
		"functions/liveness/main.go":          {`app.Action("Liveness", sandbox.Liveness)`, "deprecated"},
		"functions/image-recognition/main.go": {`app.Action("ImageRecognition", sandbox.ImageRecognition)`, "deprecated"},
		"shared/faceid/models_gen.go":         {"type LivenessRequest struct", "Deprecated: Tencent no longer onboards new users to ImageRecognition"},
	} {
		for _, w := range want {
			if !strings.Contains(string(files[p]), w) {
				t.Errorf("%s lacks %q", p, w)
			}
		}
	}
}

// TestSupplementOverlapRefused: an action both files define (a refresh
// brought it back into Tencent's file) stops the generator with a message
// saying which copy to delete.
func TestSupplementOverlapRefused(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "faceid-2018-03-01.json")
	write := func(p, body string) {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(main, `{"service":"faceid","version":"2018-03-01","actions":[{"action":"Liveness"},{"action":"A"}]}`)
	write(supplementPath(main), `{"service":"faceid","version":"2018-03-01","actions":[{"action":"Liveness","deprecated":true}]}`)
	if _, err := loadSpec(main); err == nil || !strings.Contains(err.Error(), "action Liveness is also in the main spec: delete it from the supplement") {
		t.Fatalf("overlap: %v", err)
	}
	write(supplementPath(main), `{"service":"faceid","version":"2018-03-01","actions":[{"action":"B","deprecated":true}],"error_code_descriptions":{"X":"x"}}`)
	s, err := loadSpec(main)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Actions) != 3 || s.Actions[1].Action != "B" || !s.Actions[1].Deprecated || s.ErrorDescriptions["X"] != "x" {
		t.Fatalf("merged: %+v", s)
	}
	if err := os.Remove(supplementPath(main)); err != nil {
		t.Fatal(err)
	}
	if s, err := loadSpec(main); err != nil || len(s.Actions) != 2 {
		t.Fatalf("without a supplement: %v", err)
	}
}

// TestRequiredOverrides: the supplement makes optional fields required
// (with the field that waives them), and an override the main spec has
// caught up with, or of a field that does not exist, is refused.
func TestRequiredOverrides(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "faceid-2018-03-01.json")
	write := func(p, body string) {
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sup := func(fields string) string {
		return `{"service":"faceid","version":"2018-03-01","required_overrides":[{"action":"A","fields":` + fields + `,"unless":"E","source":"seed"}]}`
	}
	write(main, `{"service":"faceid","version":"2018-03-01","actions":[{"action":"A","request":[{"name":"F","type":"string"},{"name":"G","type":"string","required":true},{"name":"E","type":"string"}]}]}`)
	write(supplementPath(main), sup(`["F"]`))
	s, err := loadSpec(main)
	if err != nil {
		t.Fatal(err)
	}
	if f := s.Actions[0].Request[0]; !f.Required || f.RequiredUnless != "E" {
		t.Fatalf("F after the override: %+v", f)
	}
	if reg := genRegistry(s); !strings.Contains(reg, `RequiredUnless: map[string]string{"F": "E"}`) || !strings.Contains(reg, `Required:       []string{"F", "G"}`) && !strings.Contains(reg, `Required: []string{"F", "G"}`) {
		t.Errorf("registry:\n%s", reg)
	}
	for fields, want := range map[string]string{`["G"]`: "required in the main spec already", `["X"]`: "has no request field X"} {
		write(supplementPath(main), sup(fields))
		if _, err := loadSpec(main); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("override %s: %v, want %q", fields, err, want)
		}
	}
}
