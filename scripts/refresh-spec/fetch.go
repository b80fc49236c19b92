package main

// Getting faceid_models.d.ts and faceid_client.d.ts out of the npm package.
// `npm pack` is the only Node tooling used: it resolves the version and
// downloads the tarball through the user's npm configuration (registry,
// proxy, auth), which is more robust than talking to the registry by hand.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const (
	npmPackage   = "tencentcloud-sdk-nodejs"
	faceidDir    = "tencentcloud/services/faceid/v20180301/"
	modelsFile   = faceidDir + "faceid_models.d.ts"
	clientFile   = faceidDir + "faceid_client.d.ts"
	clientJSFile = faceidDir + "faceid_client.js" // optional: cross-check of the action list
	packageJSON  = "package.json"
)

// wanted maps paths inside the package (without the tarball's "package/"
// prefix) to whether they are required.
var wanted = map[string]bool{
	modelsFile:   true,
	clientFile:   true,
	clientJSFile: false,
	packageJSON:  false,
}

// maxFileSize guards against a corrupt or hostile tarball; the real models
// file is about 120 KB.
const maxFileSize = 32 << 20

// npmPack runs `npm pack` in a fresh temp dir and returns the .tgz path.
func npmPack(version string) (tgz string, cleanup func(), err error) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", nil, fmt.Errorf("npm not found on PATH (%v).\n"+
			"Either install Node.js/npm, or download and unpack the package elsewhere and pass it:\n"+
			"  npm pack %s@%s        # on any machine with npm, or fetch the .tgz from the registry\n"+
			"  tar xzf %s-%s.tgz     # creates ./package\n"+
			"  go run ./scripts/refresh-spec --from-dir ./package", err, npmPackage, version, npmPackage, version)
	}
	dir, err := os.MkdirTemp("", "refresh-spec-")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	cmd := exec.Command(npm, "pack", npmPackage+"@"+version, "--silent")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("npm pack %s@%s: %v\n%s", npmPackage, version, err, strings.TrimSpace(stderr.String()))
	}
	// npm prints the file name; fall back to globbing in case a future npm
	// version adds chatter on stdout.
	name := strings.TrimSpace(string(out))
	if i := strings.LastIndex(name, "\n"); i >= 0 {
		name = strings.TrimSpace(name[i+1:])
	}
	tgz = filepath.Join(dir, name)
	if _, err := os.Stat(tgz); err != nil || name == "" {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.tgz"))
		if len(matches) != 1 {
			cleanup()
			return "", nil, fmt.Errorf("npm pack produced no single .tgz in %s (stdout %q)", dir, out)
		}
		tgz = matches[0]
	}
	return tgz, cleanup, nil
}

// extractFromTgz streams the gzip+tar archive and keeps only the wanted
// files; the full SDK unpacks to well over 100 MB, none of which we need.
func extractFromTgz(r io.Reader) (map[string][]byte, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a gzip file: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar: %w", err)
		}
		if h.Typeflag != tar.TypeReg { // archive/tar already maps the old TypeRegA to TypeReg
			continue
		}
		// npm tarballs put everything under "package/"; tolerate any single
		// top-level directory name.
		name := strings.TrimPrefix(h.Name, "./")
		i := strings.Index(name, "/")
		if i < 0 {
			continue
		}
		rel := name[i+1:]
		if _, ok := wanted[rel]; !ok {
			continue
		}
		if h.Size > maxFileSize {
			return nil, fmt.Errorf("%s is %d bytes; refusing (limit %d)", h.Name, h.Size, maxFileSize)
		}
		b, err := io.ReadAll(io.LimitReader(tr, maxFileSize+1))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", h.Name, err)
		}
		files[rel] = b
	}
	return files, checkRequired(files, "the package tarball")
}

// readFromDir takes files from an unpacked package: DIR may be the
// "package" directory itself or the directory that contains it.
func readFromDir(dir string) (map[string][]byte, error) {
	root := dir
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(clientFile))); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir, "package", filepath.FromSlash(clientFile))); err2 == nil {
			root = filepath.Join(dir, "package")
		}
	}
	files := map[string][]byte{}
	for rel := range wanted {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files[rel] = b
	}
	return files, checkRequired(files, root)
}

func checkRequired(files map[string][]byte, where string) error {
	for rel, required := range wanted {
		if required && files[rel] == nil {
			return fmt.Errorf("%s has no %s (is this %s?)", where, rel, npmPackage)
		}
	}
	return nil
}

// packageVersion reads "version" from the package's package.json.
func packageVersion(files map[string][]byte) string {
	var pj struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if json.Unmarshal(files[packageJSON], &pj) != nil {
		return ""
	}
	return pj.Version
}
