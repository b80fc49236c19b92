package tencentcloud

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/tc3"
)

// apiError is an API 3.0 error: HTTP 200 with Response.Error.
type apiError struct{ Code, Message string }

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func apiErr(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// apiRequest is one authenticated API call.
type apiRequest struct {
	service, action, version, region string
	params                           map[string]any
	cred                             Credential
}

type apiHandler func(*Server, *apiRequest) (map[string]any, *apiError)

// services are the API hosts modelled, with their version and actions.
var services = map[string]struct {
	version  string
	regional bool
	actions  map[string]apiHandler
}{
	"scf": {version: SCFVersion, regional: true, actions: scfActions},
	"cam": {version: CAMVersion, actions: map[string]apiHandler{"GetUserAppId": camGetUserAppID}},
	"tag": {version: TagVersion, regional: true, actions: tagActions},
}

// commonV1 are the signature v1 common parameters, not the action's own.
var commonV1 = []string{"Action", "Version", "Region", "Timestamp", "Nonce", "SecretId", "Signature",
	"SignatureMethod", "Token", "RequestClient", "Language"}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, host string) {
	call := Call{Host: host, Service: firstLabel(host)}
	reqID := s.requestID()
	fail := func(e *apiError) {
		call.ErrorCode = e.Code
		s.record(call)
		writeAPI(w, map[string]any{"Error": map[string]any{"Code": e.Code, "Message": e.Message}, "RequestId": reqID})
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil {
		fail(apiErr("InvalidParameter", "cannot read the request body"))
		return
	}
	req, e := s.authenticate(r, host, body, &call)
	if e != nil {
		fail(e)
		return
	}
	svc, ok := services[call.Service]
	if !ok {
		fail(apiErr("InvalidAction", "the fake does not model service %q (action %s)", call.Service, call.Action))
		return
	}
	switch {
	case call.Action == "":
		fail(apiErr("MissingParameter", "the request is missing the parameter `Action`"))
		return
	case call.Version == "":
		fail(apiErr("MissingParameter", "the request is missing the parameter `Version`"))
		return
	case call.Version != svc.version:
		fail(apiErr("NoSuchVersion", "version %s of %s does not exist (want %s)", call.Version, call.Service, svc.version))
		return
	}
	if svc.regional {
		if call.Region == "" {
			fail(apiErr("MissingParameter", "the request is missing the parameter `Region`"))
			return
		}
		if !slices.Contains(s.regions, call.Region) {
			fail(apiErr("UnsupportedRegion", "the API does not support region %s", call.Region))
			return
		}
	}
	h, ok := svc.actions[call.Action]
	if !ok {
		fail(apiErr("InvalidAction", "the requested action `%s` does not exist (not modelled by the fake)", call.Action))
		return
	}
	out, e := h(s, req)
	if e != nil {
		fail(e)
		return
	}
	s.record(call)
	if out == nil {
		out = map[string]any{}
	}
	out["RequestId"] = reqID
	writeAPI(w, out)
}

func writeAPI(w http.ResponseWriter, resp map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": resp})
}

// authenticate checks the request's signature in whichever form it comes
// (TC3 Authorization header, or signature v1 parameters) and fills call.
func (s *Server) authenticate(r *http.Request, host string, body []byte, call *Call) (*apiRequest, *apiError) {
	if r.Header.Get("Authorization") != "" {
		return s.authTC3(r, host, body, call)
	}
	return s.authV1(r, host, body, call)
}

func (s *Server) authTC3(r *http.Request, host string, body []byte, call *Call) (*apiRequest, *apiError) {
	call.Auth = tc3.Algorithm
	call.Action = r.Header.Get("X-TC-Action")
	call.Version = r.Header.Get("X-TC-Version")
	call.Region = r.Header.Get("X-TC-Region")
	call.Params = map[string]any{}
	if r.Method != http.MethodPost {
		return nil, apiErr("InvalidParameter", "the fake accepts TC3 requests as POST only")
	}
	if len(body) > 0 {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
			return nil, apiErr("InvalidParameter", "Content-Type %q is not application/json", r.Header.Get("Content-Type"))
		}
		if err := json.Unmarshal(body, &call.Params); err != nil {
			return nil, apiErr("InvalidParameter", "the body is not a JSON object: %v", err)
		}
	}
	v := &tc3.Verifier{
		// The credential scope's service must be the host's.
		Service: firstLabel(host),
		Lookup: func(id string) (string, bool) {
			c, ok := s.lookup(id)
			return c.SecretKey, ok
		},
		Now: s.now, MaxSkew: MaxSkew,
	}
	id, err := v.Verify(r, body)
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Code != "" {
			return nil, apiErr(e.Code, "%s", e.Message)
		}
		return nil, apiErr("AuthFailure.SignatureFailure", "%v", err)
	}
	cred, _ := s.lookup(id.SecretID)
	if r.Header.Get("X-TC-Token") != cred.Token {
		return nil, apiErr("AuthFailure.TokenFailure", "the token does not belong to the secret id")
	}
	return &apiRequest{service: call.Service, action: call.Action, version: call.Version, region: call.Region,
		params: call.Params, cred: cred}, nil
}

// authV1 checks Tencent's signature v1: the parameters (query for GET, the
// urlencoded form for POST) sorted by name, "name=value" joined with "&"
// with raw values, after "METHOD host path ?"; HMAC-SHA1 or HMAC-SHA256 of
// the secret key, base64.
func (s *Server) authV1(r *http.Request, host string, body []byte, call *Call) (*apiRequest, *apiError) {
	var form url.Values
	switch r.Method {
	case http.MethodGet:
		form = r.URL.Query()
	case http.MethodPost:
		// The body is the urlencoded form whatever Content-Type says: the
		// CLI's own CAM client (@serverless/utils-china) labels its form
		// "application/json", and the real endpoint accepts it.
		var err error
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, apiErr("InvalidParameter", "the form does not parse: %v", err)
		}
	default:
		return nil, apiErr("InvalidParameter", "method %s", r.Method)
	}
	call.Action, call.Version, call.Region = form.Get("Action"), form.Get("Version"), form.Get("Region")
	call.Params = unflatten(form, commonV1)
	method := form.Get("SignatureMethod")
	var newHash func() hash.Hash
	switch method {
	case "", "HmacSHA1":
		newHash, call.Auth = sha1.New, "HmacSHA1"
	case "HmacSHA256":
		newHash, call.Auth = sha256.New, "HmacSHA256"
	default:
		return nil, apiErr("InvalidParameterValue", "SignatureMethod %q", method)
	}
	for _, k := range []string{"SecretId", "Signature", "Timestamp", "Nonce"} {
		if len(form[k]) != 1 || form.Get(k) == "" {
			return nil, apiErr("MissingParameter", "the request is missing the parameter `%s` (or has it twice)", k)
		}
	}
	ts, err := strconv.ParseInt(form.Get("Timestamp"), 10, 64)
	if err != nil {
		return nil, apiErr("InvalidParameterValue", "Timestamp must be Unix seconds")
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d > MaxSkew || d < -MaxSkew {
		return nil, apiErr("AuthFailure.SignatureExpire", "the signature has expired (Timestamp %d)", ts)
	}
	cred, ok := s.lookup(form.Get("SecretId"))
	if !ok {
		return nil, apiErr("AuthFailure.SecretIdNotFound", "secret id not found")
	}
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(r.Method + signedHost(host, r.Host) + r.URL.Path + "?")
	for i, k := range keys {
		if len(form[k]) != 1 {
			return nil, apiErr("InvalidParameter", "parameter %s given %d times", k, len(form[k]))
		}
		if i > 0 {
			b.WriteByte('&')
		}
		// Names with "_" are signed with "." (Tencent's rule for v1).
		b.WriteString(strings.ReplaceAll(k, "_", ".") + "=" + form.Get(k))
	}
	mac := hmac.New(newHash, []byte(cred.SecretKey))
	mac.Write([]byte(b.String()))
	got, err := base64.StdEncoding.DecodeString(form.Get("Signature"))
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return nil, apiErr("AuthFailure.SignatureFailure", "the signature does not match")
	}
	if form.Get("Token") != cred.Token {
		return nil, apiErr("AuthFailure.TokenFailure", "the token does not belong to the secret id")
	}
	return &apiRequest{service: call.Service, action: call.Action, version: call.Version, region: call.Region,
		params: call.Params, cred: cred}, nil
}

// signedHost is the host as a client signs it: without the default port.
func signedHost(host, raw string) string {
	if strings.HasSuffix(raw, ":443") {
		return host
	}
	return strings.ToLower(raw)
}

// unflatten turns signature v1 form names ("Environment.Variables.0.Key")
// into the nested value they stand for; numbered levels become lists.
// Names in skip are left out.
func unflatten(form url.Values, skip []string) map[string]any {
	root := map[string]any{}
	for k, vs := range form {
		if slices.Contains(skip, k) || len(vs) == 0 {
			continue
		}
		parts := strings.Split(k, ".")
		m := root
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = vs[0]
	}
	return listify(root).(map[string]any)
}

func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	numeric := len(m) > 0
	for k, x := range m {
		m[k] = listify(x)
		if _, err := strconv.Atoi(k); err != nil {
			numeric = false
		}
	}
	if !numeric {
		return m
	}
	idx := make([]int, 0, len(m))
	for k := range m {
		n, _ := strconv.Atoi(k)
		idx = append(idx, n)
	}
	sort.Ints(idx)
	out := make([]any, 0, len(idx))
	for _, n := range idx {
		out = append(out, m[strconv.Itoa(n)])
	}
	return out
}

// Parameter helpers: signature v1 sends every leaf as a string, TC3 as JSON.

func pstr(p map[string]any, k string) string {
	switch v := p[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func pint(p map[string]any, k string) (n int, present bool, e *apiError) {
	switch v := p[k].(type) {
	case nil:
		return 0, false, nil
	case float64:
		if v != float64(int(v)) {
			return 0, true, apiErr("InvalidParameterValue."+k, "%s must be an integer", k)
		}
		return int(v), true, nil
	case string:
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, true, apiErr("InvalidParameterValue."+k, "%s=%q is not an integer", k, v)
		}
		return n, true, nil
	}
	return 0, true, apiErr("InvalidParameterValue."+k, "%s must be an integer", k)
}

func pbool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(x) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

func pobj(p map[string]any, k string) map[string]any {
	m, _ := p[k].(map[string]any)
	return m
}

func plist(p map[string]any, k string) []any {
	l, _ := p[k].([]any)
	return l
}

func camGetUserAppID(s *Server, r *apiRequest) (map[string]any, *apiError) {
	appID, _ := strconv.ParseInt(s.appID, 10, 64)
	return map[string]any{"AppId": appID, "Uin": s.uin, "OwnerUin": s.uin}, nil
}
