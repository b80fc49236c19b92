package faceid

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
)

// The H5 flows (DetectAuth, GetEidToken) as Tencent runs them: the answer's
// Url is a page the person opens; when they finish, the page sends the
// browser to the RedirectUrl given to the first call, with the token in its
// query ("EidToken会在该链接的query参数中"; the member is named token here,
// UNCONFIRMED for both), and the result actions answer the outcome from then
// on (Text.ErrCode null until the person finishes). With Options.H5 off the
// fake answers its recordings, as before.

// H5 outcomes a page offers.
const (
	H5Pass = "pass" // Text.ErrCode 0
	H5Fail = "fail" // Text.ErrCode 1001 (liveness failed; a charged failure)
)

type h5Flow struct {
	kind     string // detect or eid
	redirect string
	errCode  *int
}

var h5Starts = map[string]struct{ kind, token string }{
	"DetectAuth":  {"detect", "BizToken"},
	"GetEidToken": {"eid", "EidToken"},
}

var h5Results = map[string]string{"GetDetectInfo": "BizToken", "GetDetectInfoEnhanced": "BizToken", "GetEidResult": "EidToken"}

// h5Answer turns the answer of a flow action into the flow's: a start
// gets a fresh token and a page of this fake; a result pull answers the
// person's outcome. Any other answer is returned as it is.
func (s *Server) h5Answer(action string, req, answer []byte, host string) []byte {
	var env struct{ Response map[string]json.RawMessage }
	if !s.h5 || json.Unmarshal(answer, &env) != nil || env.Response == nil || env.Response["Error"] != nil {
		return answer
	}
	var in map[string]json.RawMessage
	_ = json.Unmarshal(req, &in)
	str := func(m map[string]json.RawMessage, k string) string {
		var v string
		_ = json.Unmarshal(m[k], &v)
		return v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := h5Starts[action]; ok {
		s.seq++
		tok := fmt.Sprintf("fake-%s-%d", st.kind, s.seq)
		s.flows[tok] = &h5Flow{kind: st.kind, redirect: str(in, "RedirectUrl")}
		env.Response[st.token], _ = json.Marshal(tok)
		env.Response["Url"], _ = json.Marshal("http://" + host + "/h5/" + st.kind + "?token=" + url.QueryEscape(tok))
	} else if member, ok := h5Results[action]; ok {
		f := s.flows[str(in, member)]
		if f == nil {
			return answer
		}
		var text map[string]json.RawMessage
		_ = json.Unmarshal(env.Response["Text"], &text)
		if text == nil {
			text = map[string]json.RawMessage{}
		}
		text["ErrCode"] = json.RawMessage("null")
		if f.errCode != nil {
			text["ErrCode"] = json.RawMessage(fmt.Sprint(*f.errCode))
		}
		env.Response["Text"], _ = json.Marshal(text)
	} else {
		return answer
	}
	out, _ := json.Marshal(env)
	return out
}

// servePage serves GET /h5/<kind>?token= (the page) and POST /h5/choose.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	tok := r.Form.Get("token")
	s.mu.Lock()
	f := s.flows[tok]
	s.mu.Unlock()
	if f == nil {
		http.Error(w, "unknown token", http.StatusNotFound)
		return
	}
	if r.Method == http.MethodPost && r.URL.Path == "/h5/choose" {
		code := 0
		if r.Form.Get("outcome") == H5Fail {
			code = 1001
		}
		s.mu.Lock()
		f.errCode = &code
		s.mu.Unlock()
		if f.redirect == "" {
			fmt.Fprint(w, "<!doctype html><title>done</title><p>done</p>")
			return
		}
		sep := "?"
		if strings.Contains(f.redirect, "?") {
			sep = "&"
		}
		http.Redirect(w, r, f.redirect+sep+"token="+url.QueryEscape(tok), http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	t := html.EscapeString(tok)
	fmt.Fprintf(w, `<!doctype html><html><head><meta charset="utf-8"><title>fake Tencent %s</title></head><body>
<h1>fake Tencent %s page</h1>
<form method="post" action="/h5/choose"><input type="hidden" name="token" value="%s">
<button id="pass" name="outcome" value="pass">Pass</button>
<button id="fail" name="outcome" value="fail">Fail</button></form></body></html>`, f.kind, f.kind, t)
}
