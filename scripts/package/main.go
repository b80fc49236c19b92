// Command package writes a deterministic zip for a function deployment:
// the same files give the same bytes, whatever the clock, the umask or the
// machine. scripts/build.sh uses it so that unchanged functions produce
// unchanged zips (and CloudFormation / SCF see no change to deploy).
//
//	go run ./scripts/package -o dist/lambda/arm64/detect-auth.zip bootstrap=dist/bin/linux_arm64/detect-auth
//
// Each argument is NAME=PATH: the file at PATH stored as NAME. Entries are
// written in argument order, deflated (default level), dated 1980-01-01 00:00:00 (the zip
// epoch), with Unix mode 0755 when PATH has any execute bit and 0644
// otherwise, and no other metadata.
//
// With -stamp FILE it first compares a hash of the inputs (names, modes,
// contents, and this tool's format version) with FILE, and when they match
// and the zip exists it leaves the zip alone: scripts/build.sh passes it so
// an unchanged function is not deflated again.
package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// zipLevel is the deflate level of every entry.
const zipLevel = flate.DefaultCompression

// epoch is the earliest time a zip (MS-DOS) timestamp can hold.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

type entry struct {
	name string // name inside the zip
	path string // file on disk
}

func main() {
	out := flag.String("o", "", "zip file to write")
	stamp := flag.String("stamp", "", "file recording the inputs of the zip; skip the zip when they are unchanged")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: package -o OUT.zip NAME=PATH...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := runStamped(*out, *stamp, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
}

func run(out string, args []string) error {
	if out == "" || len(args) == 0 {
		flag.Usage()
		return errors.New("need -o and at least one NAME=PATH")
	}
	entries, err := parseEntries(args)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := writeZip(&buf, entries); err != nil {
		return err
	}
	// Write beside the target and rename, so a reader never sees half a zip.
	tmp, err := os.CreateTemp(filepath.Dir(out), ".package-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// format names what, besides the inputs, decides a zip's bytes: bump it
// when writeZip changes.
const format = "idverify-package/2 deflate-level=default"

// runStamped is run, skipped when stamp (if set) records the very inputs
// the zip at out was written from.
func runStamped(out, stamp string, args []string) error {
	if stamp == "" {
		return run(out, args)
	}
	entries, err := parseEntries(args)
	if err != nil {
		return err
	}
	key, err := inputsKey(entries)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(stamp); err == nil && string(old) == key {
		if _, err := os.Stat(out); err == nil {
			return nil
		}
	}
	_ = os.Remove(stamp)
	if err := run(out, args); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(stamp), 0o755); err != nil {
		return err
	}
	return os.WriteFile(stamp, []byte(key), 0o644)
}

// inputsKey is a hash of everything a zip's bytes depend on.
func inputsKey(entries []entry) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", format)
	for _, e := range entries {
		f, err := os.Open(e.path)
		if err != nil {
			return "", err
		}
		info, err := f.Stat()
		if err == nil && !info.Mode().IsRegular() {
			err = fmt.Errorf("%s: not a regular file", e.path)
		}
		if err == nil {
			fmt.Fprintf(h, "%q %v %d\n", e.name, info.Mode().Perm()&0o111 != 0, info.Size())
			_, err = io.Copy(h, f)
		}
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func parseEntries(args []string) ([]entry, error) {
	seen := make(map[string]bool, len(args))
	entries := make([]entry, 0, len(args))
	for _, a := range args {
		name, path, ok := strings.Cut(a, "=")
		if !ok || name == "" || path == "" {
			return nil, fmt.Errorf("%q: want NAME=PATH", a)
		}
		if strings.HasPrefix(name, "/") || strings.Contains(name, "\\") || containsDotDot(name) {
			return nil, fmt.Errorf("%q: the name must be a relative slash path inside the zip", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("%q: named twice", name)
		}
		seen[name] = true
		entries = append(entries, entry{name: name, path: path})
	}
	return entries, nil
}

func containsDotDot(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return true
		}
	}
	return false
}

// writeZip writes entries to w deterministically.
func writeZip(w io.Writer, entries []entry) error {
	zw := zip.NewWriter(w)
	// Deflate's default level: on a function binary it is within 0.5% of
	// BestCompression's size at a quarter of its time (7.7 MB arm64
	// binary: 3.15 MB in 0.2 s against 3.14 MB in 0.8 s), so zipping stays
	// well under linking. The level is part of the output: changing it
	// changes every zip's bytes, once.
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, zipLevel)
	})
	for _, e := range entries {
		f, err := os.Open(e.path)
		if err != nil {
			return err
		}
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		if !info.Mode().IsRegular() {
			f.Close()
			return fmt.Errorf("%s: not a regular file", e.path)
		}
		mode := os.FileMode(0o644)
		if info.Mode().Perm()&0o111 != 0 {
			mode = 0o755
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		// The legacy MS-DOS fields only: setting Modified would add an
		// extended-timestamp field, which is one more thing to keep fixed.
		h.ModifiedDate = uint16((epoch.Year()-1980)<<9 | int(epoch.Month())<<5 | epoch.Day())
		h.ModifiedTime = 0
		h.SetMode(mode) // also marks the entry as made on Unix, so the mode is honoured
		dst, err := zw.CreateHeader(h)
		if err != nil {
			f.Close()
			return err
		}
		_, err = io.Copy(dst, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", e.path, err)
		}
	}
	return zw.Close()
}
