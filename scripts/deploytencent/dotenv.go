package main

import (
	"bufio"
	"os"
	"strings"
)

// dotenvLookup is os.LookupEnv over the process environment and then the
// .env file beside serverless.yml, the way the scf CLI loads it (dotenv:
// a variable already in the environment wins). Without this, references
// kept in .env, as serverless.yml's header suggests, would look unset.
func dotenvLookup(path string) (func(string) (string, bool), error) {
	file := map[string]string{}
	f, err := os.Open(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			line = strings.TrimPrefix(line, "export ")
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				continue
			}
			k, v = strings.TrimSpace(k), strings.TrimSpace(v)
			if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			file[k] = v
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return func(k string) (string, bool) {
		if v, ok := os.LookupEnv(k); ok {
			return v, true
		}
		v, ok := file[k]
		return v, ok
	}, nil
}
