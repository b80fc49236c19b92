package main

import (
	"bufio"
	"fmt"
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
		for n := 1; sc.Scan(); n++ {
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
			if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
				end := strings.IndexByte(v[1:], v[0])
				if end < 0 || strings.TrimSpace(v[end+2:]) != "" {
					return nil, fmt.Errorf("%s:%d: %s: text after the quoted value (the scf CLI's dotenv takes no inline comments: put a comment on a line of its own)", path, n, k)
				}
				v = v[1 : end+1]
			} else if strings.Contains(v, " #") {
				return nil, fmt.Errorf("%s:%d: %s: an inline comment (the scf CLI's dotenv would keep it in the value: put a comment on a line of its own)", path, n, k)
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
