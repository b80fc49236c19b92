package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestZipIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fn")
	script := filepath.Join(dir, "scf_bootstrap")
	notes := filepath.Join(dir, "notes.txt")
	write := func(p, content string, mode os.FileMode, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // whatever the umask
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"bootstrap=" + bin, "scf_bootstrap=" + script, "docs/notes.txt=" + notes}

	write(bin, "\x7fELF pretend binary", 0o755, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	write(script, "#!/bin/bash\nexec ./fn\n", 0o700, time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))
	write(notes, "hello", 0o600, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC))
	first := filepath.Join(dir, "a.zip")
	if err := run(first, args); err != nil {
		t.Fatal(err)
	}

	// Same content, other times and permission bits: same bytes.
	write(bin, "\x7fELF pretend binary", 0o775, time.Now())
	write(script, "#!/bin/bash\nexec ./fn\n", 0o755, time.Now())
	write(notes, "hello", 0o664, time.Now())
	second := filepath.Join(dir, "b.zip")
	if err := run(second, args); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if !bytes.Equal(a, b) {
		t.Fatalf("the same files gave different zips (%d and %d bytes)", len(a), len(b))
	}

	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name    string
		mode    os.FileMode
		content string
	}{
		{"bootstrap", 0o755, "\x7fELF pretend binary"},
		{"scf_bootstrap", 0o755, "#!/bin/bash\nexec ./fn\n"},
		{"docs/notes.txt", 0o644, "hello"},
	}
	if len(zr.File) != len(want) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(want))
	}
	for i, f := range zr.File {
		w := want[i]
		if f.Name != w.name {
			t.Errorf("entry %d is %q, want %q", i, f.Name, w.name)
		}
		if got := f.Mode().Perm(); got != w.mode {
			t.Errorf("%s: mode %o, want %o", f.Name, got, w.mode)
		}
		if f.CreatorVersion>>8 != 3 {
			t.Errorf("%s: creator %d, want 3 (Unix) so the mode is honoured", f.Name, f.CreatorVersion>>8)
		}
		if !f.Modified.Equal(epoch) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, epoch)
		}
		if len(f.Extra) != 0 {
			t.Errorf("%s: %d bytes of extra fields, want none", f.Name, len(f.Extra))
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != w.content {
			t.Errorf("%s: content %q, want %q", f.Name, got, w.content)
		}
	}
}

func TestParseEntriesRejects(t *testing.T) {
	for _, args := range [][]string{
		{"bootstrap"},
		{"=x"},
		{"a="},
		{"/abs=x"},
		{"../up=x"},
		{"a/../../b=x"},
		{"a=x", "a=y"},
	} {
		if _, err := parseEntries(args); err == nil {
			t.Errorf("parseEntries(%q) accepted", args)
		}
	}
}

func TestRunRejectsDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := run(filepath.Join(dir, "out.zip"), []string{"bootstrap=" + dir}); err == nil {
		t.Fatal("a directory was zipped as a file")
	}
}

// TestStampSkipsUnchanged: with -stamp, the same inputs leave the zip
// alone; a changed input (content or execute bit) writes it again.
func TestStampSkipsUnchanged(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "fn")
	out := filepath.Join(dir, "fn.zip")
	stamp := filepath.Join(dir, "stamps", "fn.zip.sum")
	if err := os.WriteFile(bin, []byte("one"), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"bootstrap=" + bin}
	if err := runStamped(out, stamp, args); err != nil {
		t.Fatal(err)
	}
	first, _ := os.ReadFile(out)
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(out, old, old); err != nil {
		t.Fatal(err)
	}
	if err := runStamped(out, stamp, args); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(out); !info.ModTime().Equal(old) {
		t.Fatal("an unchanged zip was written again")
	}
	for _, change := range []func(){
		func() { os.WriteFile(bin, []byte("two"), 0o755) },
		func() { os.Chmod(bin, 0o644) },
		func() { os.Remove(out) },
	} {
		change()
		if err := runStamped(out, stamp, args); err != nil {
			t.Fatal(err)
		}
		if info, err := os.Stat(out); err != nil || info.ModTime().Equal(old) {
			t.Fatalf("a changed input did not write the zip again: %v", err)
		}
		os.Chtimes(out, old, old)
	}
	last, _ := os.ReadFile(out)
	if bytes.Equal(first, last) {
		t.Fatal("the zip did not follow its inputs")
	}
}
