package baidufake

import (
	"fmt"
	"html"
	"net/http"
)

// The H5 page of the solution, as the customer opens it:
// https://brain.baidu.com/face/print/?token=<verify_token>&successUrl=…&failedUrl=…
// (provider-apis.md §6.2, from third-party code). The person's outcome
// ends the flow as Complete does, and the browser goes to successUrl or
// failedUrl. What Baidu appends to those URLs is UNCONFIRMED; nothing is
// appended here.
const pagePath = "/face/print/"

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	tok := r.Form.Get("token")
	s.mu.Lock()
	f := s.flows[tok]
	s.mu.Unlock()
	if f == nil {
		http.Error(w, "Token无效或者已过期", http.StatusNotFound)
		return
	}
	if r.Method == http.MethodPost {
		o, next := Pass, r.Form.Get("successUrl")
		if r.Form.Get("outcome") != "pass" {
			o, next = NotLive, r.Form.Get("failedUrl")
		}
		if err := s.Complete(tok, o); err != nil {
			http.Error(w, err.Error(), http.StatusConflict)
			return
		}
		if next == "" {
			fmt.Fprint(w, "<!doctype html><title>done</title><p>done</p>")
			return
		}
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	e := html.EscapeString
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>fake Baidu face print</title></head><body>
<h1>fake Baidu H5 page</h1><form method="post" action="%s">
<input type="hidden" name="token" value="%s"><input type="hidden" name="successUrl" value="%s"><input type="hidden" name="failedUrl" value="%s">
<button id="pass" name="outcome" value="pass">Pass</button><button id="fail" name="outcome" value="fail">Fail</button></form></body></html>`,
		pagePath, e(tok), e(r.Form.Get("successUrl")), e(r.Form.Get("failedUrl")))
}
