package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// go test ./scripts/refresh-spec -update rewrites testdata/want.json after a
// deliberate change to the merge output.
var update = flag.Bool("update", false, "rewrite testdata/want.json")

const fixturePkg = "testdata/pkg"

func fixtureFiles(t *testing.T) map[string][]byte {
	t.Helper()
	files, err := readFromDir(fixturePkg)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func fixturePackage(t *testing.T) *sdkPackage {
	t.Helper()
	p, warnings, err := parsePackage(fixtureFiles(t), "4.9.999")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Fatalf("unexpected warnings: %v", warnings)
	}
	return p
}

func fieldOf(t *testing.T, p *sdkPackage, typ, name string) field {
	t.Helper()
	for _, f := range p.Types[typ].Fields {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("%s.%s not parsed", typ, name)
	return field{}
}

func TestParseFixture(t *testing.T) {
	p := fixturePackage(t)

	var names []string
	for _, m := range p.Methods {
		names = append(names, m.Name)
	}
	if got := strings.Join(names, ","); got != "Alpha,Beta,Gamma" {
		t.Fatalf("methods = %s", got)
	}
	// The class doc comment (@class) must not leak into the first method's
	// description; the first spec had exactly that bug for GetLiveCode.
	if d := p.Methods[1].Description; d != "本接口无需参数。详情请查阅说明文档。" {
		t.Errorf("Beta description = %q", d)
	}
	if !p.Methods[2].Deprecated || p.Methods[0].Deprecated {
		t.Errorf("method @deprecated flags wrong: %+v", p.Methods)
	}
	if !p.Types["BetaRequest"].IsNull {
		t.Error("BetaRequest = null not recognised")
	}
	if got := strings.Join(p.JSActions, ","); got != "Alpha,Beta,Gamma" {
		t.Errorf("js actions = %s", got)
	}

	cases := []struct {
		typ, name, wantType, wantDesc  string
		required, nullable, deprecated bool
	}{
		{"AlphaRequest", "Name", "string", "姓名。", true, false, false},
		{"AlphaRequest", "Tags", "Array<string>", "标签列表。", false, false, false},
		// a code sample inside a comment is description, not fields
		{"AlphaRequest", "Config", "Config", `配置，示例： { "Key": null, // 不是字段 }`, false, false, false},
		{"AlphaRequest", "Ids", "Array<number | bigint>", "编号。", false, false, false},
		{"AlphaRequest", "OldName", "string", "已废弃。请使用Name。", false, false, true},
		// block tags -> space, entities decoded, boiler-plate -> nullable
		{"AlphaResponse", "Result", "string", `认证结果码。 收费结果码： 0: "一致" -1: 不一致`, false, true, false},
		// inline <a> removed without a gap
		{"AlphaResponse", "Items", "Array<Item>", "结果明细，参见明细说明。", false, false, false},
		{"Config", "Enabled", "boolean", "开关， 多个 空格 与换行。", true, false, false},
		// "<0.6" is not a tag and survives; "&lt;" decodes after tag removal
		{"Config", "Threshold", "number", "阈值<0.6时判断为攻击。SimilarityScore<0.6是攻击。", false, false, false},
		// boiler-plate without its full stop
		{"Item", "Maybe", "string", "可能为空。", false, true, false},
		{"Item", "Sub", "Array<Config>", "子配置。", false, false, false},
	}
	for _, c := range cases {
		f := fieldOf(t, p, c.typ, c.name)
		if f.Type != c.wantType || f.Description != c.wantDesc || f.Required != c.required || f.Nullable != c.nullable || f.Deprecated != c.deprecated {
			t.Errorf("%s.%s = %+v\nwant type=%q desc=%q required=%v nullable=%v deprecated=%v",
				c.typ, c.name, f, c.wantType, c.wantDesc, c.required, c.nullable, c.deprecated)
		}
	}
	long := fieldOf(t, p, "Item", "Long")
	if r := []rune(long.Description); len(r) != maxDescRunes || r[len(r)-1] != '…' {
		t.Errorf("long description not trimmed to %d runes ending in …: %d runes", maxDescRunes, len(r))
	}
	if len([]rune(long.FullText)) != 210 {
		t.Errorf("FullText should be untrimmed, got %d runes", len([]rune(long.FullText)))
	}
}

func TestParseRejectsUnknownConstructs(t *testing.T) {
	bad := map[string]string{
		"method in interface": "export interface X {\n    foo(): void;\n}\n",
		"unclosed interface":  "export interface X {\n    A?: string;\n",
		"unknown export":      "export type X = string;\n",
	}
	for name, src := range bad {
		if _, err := parseModels([]byte(src)); err == nil {
			t.Errorf("%s: parsed without error", name)
		}
	}
	if ts, err := parseModels([]byte("export declare type XRequest = null;\n")); err != nil || !ts["XRequest"].IsNull {
		t.Errorf("declare type = null: %v %+v", err, ts)
	}
}

func TestMergeGolden(t *testing.T) {
	oldBytes, err := os.ReadFile("testdata/spec.json")
	if err != nil {
		t.Fatal(err)
	}
	p := fixturePackage(t)
	var first []byte
	for i := 0; i < 3; i++ { // map iteration must not leak into the output
		v, err := decodeOrdered(oldBytes)
		if err != nil {
			t.Fatal(err)
		}
		out, rep, err := merge(v.(*object), p)
		if err != nil {
			t.Fatal(err)
		}
		got := encode(out, detectFormat(oldBytes))
		if i == 0 {
			first = got
			if len(rep.removals()) != 0 || strings.Join(rep.ActionsAdded, ",") != "Gamma" {
				t.Errorf("report: added %v removals %v", rep.ActionsAdded, rep.removals())
			}
			if !strings.Contains(strings.Join(rep.Warnings, "\n"), "new action Gamma: gateway block is empty") {
				t.Errorf("no warning for the new action's gateway: %v", rep.Warnings)
			}
		} else if !bytes.Equal(got, first) {
			t.Fatal("merge output differs between runs")
		}
	}
	if *update {
		if err := os.WriteFile("testdata/want.json", first, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/want.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, want) {
		t.Fatalf("merge output differs from testdata/want.json (run with -update after checking):\n%s", first)
	}

	// Facts the package does not carry survive verbatim.
	v, _ := decodeOrdered(first)
	out := v.(*object)
	alpha := out.arr("actions")[0].(*object)
	oldV, _ := decodeOrdered(oldBytes)
	oldAlpha := oldV.(*object).arr("actions")[0].(*object)
	if !jsonEqual(alpha.vals["gateway"], oldAlpha.vals["gateway"]) {
		t.Error("Alpha gateway block changed")
	}
	if s := alpha.arr("request")[0].(*object).str("x_reviewed"); s != "kept by the refresh" {
		t.Error("hand-added field key was dropped")
	}
	for _, k := range []string{"error_code_descriptions", "common_request", "notes"} {
		if !jsonEqual(out.vals[k], oldV.(*object).vals[k]) {
			t.Errorf("top-level %s changed", k)
		}
	}
	gamma := out.arr("actions")[2].(*object)
	if g := gamma.obj("gateway"); g == nil || len(g.keys) != 0 {
		t.Error("new action should get an empty gateway block")
	}
}

func TestFormattingRoundTrip(t *testing.T) {
	b, err := os.ReadFile("testdata/spec.json") // written by Python json.dumps(ensure_ascii=False, indent=1)
	if err != nil {
		t.Fatal(err)
	}
	v, err := decodeOrdered(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := encode(v, detectFormat(b)); !bytes.Equal(got, b) {
		t.Fatal("decode+encode of an untouched spec is not byte-identical")
	}
	two := []byte("{\n  \"a\": [\n    1.50,\n    \"x\\u0001<>&\u2028\"\n  ],\n  \"b\": {}\n}\n")
	v, _ = decodeOrdered(two)
	if got := encode(v, detectFormat(two)); !bytes.Equal(got, two) {
		t.Fatalf("two-space layout not reproduced:\n%s", got)
	}
}

func copySpec(t *testing.T, mutate func(*object)) string {
	t.Helper()
	b, err := os.ReadFile("testdata/spec.json")
	if err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		v, _ := decodeOrdered(b)
		mutate(v.(*object))
		b = encode(v, detectFormat(b))
	}
	path := filepath.Join(t.TempDir(), "spec.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func runTool(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String() + errb.String()
}

func TestRunCheckAndWrite(t *testing.T) {
	spec := copySpec(t, nil)
	before, _ := os.ReadFile(spec)

	code, out := runTool(t, "--from-dir", fixturePkg, "--spec", spec, "--check")
	if code != 1 || !strings.Contains(out, "would change") {
		t.Fatalf("--check on a stale spec: code %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(spec); !bytes.Equal(before, after) {
		t.Fatal("--check wrote the spec")
	}

	code, out = runTool(t, "--from-dir", fixturePkg, "--spec", spec)
	if code != 0 || !strings.Contains(out, "scripts/generate.sh") || !strings.Contains(out, "4.9.999") {
		t.Fatalf("write: code %d\n%s", code, out)
	}
	want, _ := os.ReadFile("testdata/want.json")
	if got, _ := os.ReadFile(spec); !bytes.Equal(got, want) {
		t.Fatal("written spec differs from testdata/want.json")
	}

	code, out = runTool(t, "--from-dir", fixturePkg, "--spec", spec, "--check")
	if code != 0 {
		t.Fatalf("--check right after a refresh: code %d\n%s", code, out)
	}
}

func TestRunRefusesRemovals(t *testing.T) {
	spec := copySpec(t, func(s *object) {
		legacy := newObject()
		legacy.set("action", "Legacy")
		legacy.set("request", []any{})
		legacy.set("response", []any{})
		legacy.set("gateway", newObject())
		s.set("actions", append(s.arr("actions"), legacy))
		alpha := s.arr("actions")[0].(*object)
		f := newObject()
		f.set("name", "Gone")
		f.set("type", "string")
		alpha.set("request", append(alpha.arr("request"), f))
	})
	before, _ := os.ReadFile(spec)

	code, out := runTool(t, "--from-dir", fixturePkg, "--spec", spec)
	if code != 2 || !strings.Contains(out, "refused") || !strings.Contains(out, "- action Legacy") || !strings.Contains(out, "- field Alpha.request.Gone") {
		t.Fatalf("removal not refused: code %d\n%s", code, out)
	}
	if after, _ := os.ReadFile(spec); !bytes.Equal(before, after) {
		t.Fatal("spec written despite refused removals")
	}

	code, out = runTool(t, "--from-dir", fixturePkg, "--spec", spec, "--allow-removals")
	if code != 0 {
		t.Fatalf("--allow-removals: code %d\n%s", code, out)
	}
	want, _ := os.ReadFile("testdata/want.json")
	if got, _ := os.ReadFile(spec); !bytes.Equal(got, want) {
		t.Fatal("after --allow-removals the spec should equal testdata/want.json")
	}
}

// TestTgzStreaming packs the fixture (plus unrelated files) the way npm
// does and checks only the faceid files are taken.
func TestTgzStreaming(t *testing.T) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	add := func(name string, body []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	add("package/tencentcloud/services/cvm/v20170312/cvm_models.d.ts", bytes.Repeat([]byte("x"), 1<<16))
	err := filepath.WalkDir(filepath.Join(fixturePkg, "package"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(fixturePkg, path)
		b, err := os.ReadFile(path)
		add(filepath.ToSlash(rel), b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tw.Close()
	gz.Close()

	files, err := extractFromTgz(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 || packageVersion(files) != "4.9.999" {
		t.Fatalf("extracted %d files, version %q", len(files), packageVersion(files))
	}
	if !bytes.Equal(files[modelsFile], fixtureFiles(t)[modelsFile]) {
		t.Fatal("models file corrupted in transit")
	}
}

func TestNoNpmExplainsFromDir(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, _, err := npmPack("4.1.313")
	if err == nil || !strings.Contains(err.Error(), "--from-dir") {
		t.Fatalf("want a hint about --from-dir, got %v", err)
	}
}

// TestSupplementKept: the supplement next to the spec (the deprecated
// actions the package no longer declares) is never written by a refresh,
// and an action the package declares again is pointed out.
func TestSupplementKept(t *testing.T) {
	spec := copySpec(t, nil)
	sup := supplementPath(spec)
	body := []byte(`{"actions":[{"action":"Liveness"},{"action":"Beta"}]}` + "\n")
	if err := os.WriteFile(sup, body, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runTool(t, "--from-dir", fixturePkg, "--spec", spec)
	if code != 0 {
		t.Fatalf("refresh: code %d\n%s", code, out)
	}
	if got, _ := os.ReadFile(sup); !bytes.Equal(got, body) {
		t.Fatalf("the refresh changed the supplement:\n%s", got)
	}
	if !strings.Contains(out, "warning: the package declares Beta again: delete it from spec.supplement.json") {
		t.Errorf("no warning about Beta:\n%s", out)
	}
	if strings.Contains(out, "declares Liveness again") {
		t.Errorf("warned about an action the package does not declare:\n%s", out)
	}
}
