package sandbox

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentCalls runs every scenario's calls from many goroutines on
// one provider (go test -race checks the shared state); every answer must
// still be right and every RequestId distinct.
func TestConcurrentCalls(t *testing.T) {
	p, _ := newTestProvider()
	scenarios := scenariosAt(t0)
	var mu sync.Mutex
	ids := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i, s := range scenarios {
				if (i+g)%4 != 0 || s.After != "" || s.ReachedBy == ReachedByNotEmulated {
					continue
				}
				req := s.Request
				if s.Start != nil {
					out, err := p.Call(t.Context(), s.Start.Action, s.Start.Request)
					if err != nil {
						t.Errorf("%s: %v", s.Start.Action, err)
						return
					}
					tok, _ := at(out, s.Start.TokenField)
					var m map[string]any
					json.Unmarshal(req, &m)
					m[s.Start.Into] = tok
					req, _ = json.Marshal(m)
				}
				out, err := p.Call(t.Context(), s.Action, req)
				if (err != nil) != (s.ErrorCode != "") {
					t.Errorf("%s %s%s: err %v", s.Action, s.Result, s.ErrorCode, err)
					continue
				}
				if err != nil {
					continue
				}
				if s.ResultField != "" {
					if got, _ := at(out, s.ResultField); got != s.Result {
						t.Errorf("%s: %s = %s, want %s", s.Action, s.ResultField, got, s.Result)
					}
				}
				rid, _ := at(out, "RequestId")
				mu.Lock()
				if ids[rid] || !strings.HasPrefix(rid, "sandbox-") {
					t.Errorf("RequestId %q repeated or unmarked", rid)
				}
				ids[rid] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(ids) < len(scenarios)*2 {
		t.Errorf("only %d calls", len(ids))
	}
}
