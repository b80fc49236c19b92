// Command refresh-spec refreshes shared/faceid/spec/faceid-2018-03-01.json
// from the TypeScript declarations in the tencentcloud-sdk-nodejs npm
// package, keeping every hand-gathered fact (gateway blocks, error tables,
// notes) the package does not carry.
//
//	go run ./scripts/refresh-spec                       # latest package, write the spec
//	go run ./scripts/refresh-spec --version 4.1.313 --check
//	go run ./scripts/refresh-spec --from-dir ./package  # already unpacked, no npm needed
//
// Exit status: 0 done (or nothing to change), 1 --check found changes,
// 2 error or refused removals.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const defaultSpec = "shared/faceid/spec/faceid-2018-03-01.json"

type options struct {
	version       string
	fromDir       string
	tgz           string
	specPath      string
	outPath       string
	check         bool
	allowRemovals bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("refresh-spec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.version, "version", "latest", "tencentcloud-sdk-nodejs version or dist-tag for `npm pack`")
	fs.StringVar(&o.fromDir, "from-dir", "", "read an already unpacked package (the `package` dir or its parent) instead of running npm")
	fs.StringVar(&o.tgz, "tgz", "", "read a package tarball (.tgz from `npm pack`) instead of running npm")
	fs.StringVar(&o.specPath, "spec", "", "spec file to refresh (default: <repo>/"+defaultSpec+")")
	fs.StringVar(&o.outPath, "out", "", "write the result to this file instead of the spec (for review)")
	fs.BoolVar(&o.check, "check", false, "do not write; exit 1 if the refresh would change the spec")
	fs.BoolVar(&o.allowRemovals, "allow-removals", false, "allow actions, structs and fields missing from the package to be deleted from the spec")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./scripts/refresh-spec [--version 4.1.x] [--from-dir DIR | --tgz FILE] [--check] [--allow-removals] [--spec FILE] [--out FILE]\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	code, err := refresh(o, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "refresh-spec: %v\n", err)
		return 2
	}
	return code
}

func refresh(o options, w io.Writer) (int, error) {
	specPath := o.specPath
	if specPath == "" {
		root, err := repoRoot()
		if err != nil {
			return 2, err
		}
		specPath = filepath.Join(root, filepath.FromSlash(defaultSpec))
	}
	oldBytes, err := os.ReadFile(specPath)
	if err != nil {
		return 2, err
	}
	oldVal, err := decodeOrdered(oldBytes)
	if err != nil {
		return 2, fmt.Errorf("%s: %w", specPath, err)
	}
	oldSpec, ok := oldVal.(*object)
	if !ok {
		return 2, fmt.Errorf("%s: top level is not an object", specPath)
	}
	f := detectFormat(oldBytes)
	// The writer must reproduce an untouched file exactly, otherwise every
	// refresh would carry formatting noise. If it cannot, say so: the first
	// write normalises the file once.
	normalised := !bytes.Equal(encode(oldSpec, f), oldBytes)

	files, origin, err := loadFiles(o)
	if err != nil {
		return 2, err
	}
	version := packageVersion(files)
	if version == "" && o.version != "latest" {
		version = o.version
	}
	pkg, warnings, err := parsePackage(files, version)
	if err != nil {
		return 2, err
	}
	newSpec, rep, err := merge(oldSpec, pkg)
	if err != nil {
		return 2, err
	}
	checkQuotedText(newSpec, pkg, rep)
	rep.Warnings = append(warnings, rep.Warnings...)
	rep.Warnings = append(rep.Warnings, supplementOverlap(specPath, pkg)...)
	newBytes := encode(newSpec, f)
	changed := !bytes.Equal(newBytes, oldBytes)

	printSummary(w, rep, origin, specPath, normalised)
	removals := rep.removals()

	if o.check {
		if !changed {
			fmt.Fprintf(w, "check: %s is up to date with %s\n", specPath, origin)
			return 0, nil
		}
		fmt.Fprintf(w, "check: the refresh would change %s (exit 1)", specPath)
		if len(removals) > 0 && !o.allowRemovals {
			fmt.Fprintf(w, "; it includes %d removal(s) that need --allow-removals", len(removals))
		}
		fmt.Fprintln(w)
		return 1, nil
	}
	if len(removals) > 0 && !o.allowRemovals {
		// Dropping something the gateway may still expose deserves a human
		// decision, so nothing is written until it is made explicitly.
		fmt.Fprintf(w, "refused: the package no longer has %d item(s) listed above under removed; nothing written.\n"+
			"Check the SDK changelog, then re-run with --allow-removals to delete them.\n", len(removals))
		return 2, nil
	}
	target := specPath
	if o.outPath != "" {
		target = o.outPath
	}
	if !changed && target == specPath {
		fmt.Fprintf(w, "no changes; %s left as is\n", specPath)
		return 0, nil
	}
	if err := writeAtomic(target, newBytes); err != nil {
		return 2, err
	}
	fmt.Fprintf(w, "wrote %s\n", target)
	if target == specPath {
		fmt.Fprintln(w, "next: run scripts/generate.sh to regenerate the models, registry and function mains, then review `git diff`.")
	}
	return 0, nil
}

// loadFiles gets the faceid declaration files from a directory, a tarball,
// or `npm pack`, and names where they came from for the summary.
func loadFiles(o options) (map[string][]byte, string, error) {
	switch {
	case o.fromDir != "" && o.tgz != "":
		return nil, "", fmt.Errorf("--from-dir and --tgz are exclusive")
	case o.fromDir != "":
		files, err := readFromDir(o.fromDir)
		return files, describeOrigin(files, "directory "+o.fromDir), err
	case o.tgz != "":
		fh, err := os.Open(o.tgz)
		if err != nil {
			return nil, "", err
		}
		defer fh.Close()
		files, err := extractFromTgz(fh)
		return files, describeOrigin(files, o.tgz), err
	}
	tgz, cleanup, err := npmPack(o.version)
	if err != nil {
		return nil, "", err
	}
	defer cleanup()
	fh, err := os.Open(tgz)
	if err != nil {
		return nil, "", err
	}
	defer fh.Close()
	files, err := extractFromTgz(fh)
	return files, describeOrigin(files, "npm pack "+npmPackage+"@"+o.version), err
}

func describeOrigin(files map[string][]byte, from string) string {
	v := packageVersion(files)
	if v == "" {
		v = "version unknown (no package.json)"
	}
	return fmt.Sprintf("%s %s (%s)", npmPackage, v, from)
}

func printSummary(w io.Writer, r *report, origin, specPath string, normalised bool) {
	fmt.Fprintf(w, "refresh-spec: %s -> %s\n", origin, specPath)
	fmt.Fprintf(w, "  actions: added %d, changed %d, removed %d\n", len(r.ActionsAdded), len(r.ActionsChanged), len(r.ActionsRemoved))
	fmt.Fprintf(w, "  structs: added %d, changed %d, removed %d\n", len(r.StructsAdded), len(r.StructsChanged), len(r.StructsRemoved))
	fmt.Fprintf(w, "  fields:  added %d, changed %d, removed %d\n", len(r.FieldsAdded), len(r.FieldsChanged), len(r.FieldsRemoved))
	list := func(mark, what string, items []string) {
		for _, it := range items {
			fmt.Fprintf(w, "    %s %s %s\n", mark, what, it)
		}
	}
	list("+", "action", r.ActionsAdded)
	list("~", "action", r.ActionsChanged)
	list("-", "action", r.ActionsRemoved)
	list("+", "struct", r.StructsAdded)
	list("~", "struct", r.StructsChanged)
	list("-", "struct", r.StructsRemoved)
	list("+", "field", r.FieldsAdded)
	list("~", "field", r.FieldsChanged)
	list("-", "field", r.FieldsRemoved)
	if normalised {
		fmt.Fprintln(w, "  note: the current file is not in the canonical layout (indent + raw UTF-8, key order kept); writing will normalise its formatting once")
	}
	for _, s := range r.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", s)
	}
}

// repoRoot finds the module root from the working directory, so the tool
// works from anywhere inside the repo.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, filepath.FromSlash(defaultSpec))); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("cannot find %s above %s; pass --spec", defaultSpec, dir)
		}
	}
}

// writeAtomic replaces path via a temp file in the same directory so a
// crash never leaves a half-written spec behind.
func writeAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// supplementPath is the hand-written supplement next to a spec file
// (faceid-2018-03-01.supplement.json): the actions Tencent still serves but
// the package no longer declares. This tool never writes it, so a refresh
// cannot drop them; scripts/gen merges the two files.
func supplementPath(specPath string) string {
	return strings.TrimSuffix(specPath, ".json") + ".supplement.json"
}

// supplementOverlap warns about each supplement action the package
// declares again: scripts/gen refuses an action defined in both files, and
// the package's declaration should win, so the supplement's copy must go.
func supplementOverlap(specPath string, pkg *sdkPackage) []string {
	b, err := os.ReadFile(supplementPath(specPath))
	if err != nil {
		return nil
	}
	var sup struct{ Actions []struct{ Action string } }
	if err := json.Unmarshal(b, &sup); err != nil {
		return []string{fmt.Sprintf("%s: %v", supplementPath(specPath), err)}
	}
	declared := map[string]bool{}
	for _, m := range pkg.Methods {
		declared[m.Name] = true
	}
	var out []string
	for _, a := range sup.Actions {
		if declared[a.Action] {
			out = append(out, fmt.Sprintf("the package declares %s again: delete it from %s (scripts/gen refuses an action in both files), after checking its gateway facts carried over",
				a.Action, filepath.Base(supplementPath(specPath))))
		}
	}
	return out
}
