package tests

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/idverify/idverify/shared/faceid"
	"github.com/idverify/idverify/shared/precheck"
	"github.com/idverify/idverify/shared/validate"
)

// Known personal data for the log scan. The digit values are valid (check
// digit, Luhn) so that requests reach the provider, and differ from every
// sandbox magic value so that no fixture can explain their presence.
var pii = func() (p struct{ id, name, phone, card, email, photo string }) {
	idc, err := validate.IDCheckDigit("33010619850917563")
	if err != nil {
		panic(err)
	}
	cardc, err := validate.LuhnDigit("621700381002689471")
	if err != nil {
		panic(err)
	}
	photo := []byte("\xff\xd8\xff\xe0 PII portrait of a person: ")
	for i := 0; len(photo) < 300; i++ {
		photo = append(photo, byte(i*37+11))
	}
	p.id = "33010619850917563" + string(idc)
	p.name = "欧阳铭远"
	p.phone = "15967452381"
	p.card = "621700381002689471" + string(cardc)
	p.email = "ouyang.mingyuan@example.org"
	p.photo = base64.StdEncoding.EncodeToString(photo)
	return p
}()

// piiFields are the values a request carries in fields of these names.
func piiFields() map[string]any {
	return map[string]any{
		"IdCard": pii.id, "Name": pii.name, "Phone": pii.phone, "Mobile": pii.phone,
		"BankCard": pii.card, "ImageBase64": pii.photo, "VideoBase64": pii.photo, "FaceInput": pii.photo,
		"Extra": pii.email, "Meta": pii.email,
	}
}

// leaks lists what of the known personal data appears in out: a whole
// value, or a long piece of one (six digits of a number, three characters
// of the name, sixteen of the photo's base64, the email's local part).
func leaks(out string) []string {
	var found []string
	for _, v := range []string{pii.id, pii.name, pii.phone, pii.card, pii.email, pii.photo} {
		if strings.Contains(out, v) {
			found = append(found, "whole value "+v[:min(len(v), 24)])
		}
	}
	// Timestamps, latencies and generated request ids are random digit
	// runs that could match six digits by chance; they cannot carry a
	// request's data, so they are blanked before the piece scan.
	out = noise.ReplaceAllString(out, "#")
	piece := func(what, v string, n int) {
		r := []rune(v)
		for i := 0; i+n <= len(r); i++ {
			if w := string(r[i : i+n]); strings.Contains(out, w) {
				found = append(found, fmt.Sprintf("%d-character piece %q of the %s", n, w, what))
				return
			}
		}
	}
	piece("ID number", pii.id, 6)
	piece("phone number", pii.phone, 6)
	piece("bank card", pii.card, 6)
	piece("name", pii.name, 3)
	piece("photo", pii.photo, 16)
	piece("email", strings.Split(pii.email, "@")[0], 8)
	return found
}

var localAnswer = regexp.MustCompile(`"Result":"-[0-9]+"`)

var noise = regexp.MustCompile(`"time":"[^"]*"|"latency_ms":[0-9.eE+-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// TestLeaksDetectsPieces keeps the scanner honest: each kind of leak it
// exists for is found.
func TestLeaksDetectsPieces(t *testing.T) {
	for _, s := range []string{
		pii.id, "id=" + pii.id[3:11], `"phone":"` + pii.phone[:7] + `"`, "card tail " + pii.card[len(pii.card)-6:],
		"铭远" + pii.name[3:12], pii.photo[100:120], "ouyang.mingyu", pii.email,
	} {
		if len(leaks(s)) == 0 {
			t.Errorf("scanner misses %q", s)
		}
	}
	for _, s := range []string{"auth=" + piiBearerKey[5:20], piiTC3Key[10:], keySha256(piiRestrictedKey)[30:44]} {
		if len(keyLeaks(s)) == 0 {
			t.Errorf("key scanner misses %q", s)
		}
	}
	if l := leaks(`{"time":"2026-03-12T08:30:16.330106Z","latency_ms":0.198509,"request_id":"33010619-8509-1756-3aaa-bbbbbbbbbbbb"}`); len(l) != 0 {
		t.Errorf("scanner flags noise: %v", l)
	}
}

// capture runs a process and keeps everything it writes.
type capture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// startCaptured runs bin as a local server, keeping stdout and stderr.
func startCaptured(t *testing.T, bin string, out *capture, env ...string) string {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORT=" + port}, env...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	base := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base
			}
		}
		select {
		case err := <-done:
			t.Fatalf("server exited early: %v\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("server did not become ready\n%s", out)
	return ""
}

// piiRequest is a request of a that passes precheck, with personal data in
// every field of a personal-data name the action takes, required or not.
func piiRequest(t *testing.T, a *faceid.Action, call func(string, map[string]any) map[string]any) map[string]any {
	body := requestFor(t, a, call)
	model := reflect.TypeOf(a.NewRequest()).Elem()
	for f, v := range piiFields() {
		if _, ok := model.FieldByName(f); ok {
			body[f] = v
		}
	}
	// An encrypted-phone request in plain mode carries the values as such.
	if a.Name == "EncryptedPhoneVerification" {
		body["EncryptionMode"] = "0"
	}
	return body
}

type httpCase struct {
	name, method, path, query string
	header                    map[string]string
	body                      []byte
	// mayPass: the request is valid for a loopback caller even if odd
	// (a content type the surface does not check, credentials the
	// loopback policy ignores); only the log scan applies.
	mayPass bool
}

func (c httpCase) do(t *testing.T, base string) (int, []byte) {
	t.Helper()
	u := base + c.path
	if c.query != "" {
		u += "?" + c.query
	}
	req, err := http.NewRequest(c.method, u, bytes.NewReader(c.body))
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// An oversized body may be refused before it is all sent.
		t.Logf("%s: %v", c.name, err)
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func jsonOf(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hostileBodies are malformed requests full of personal data; each must be
// refused without its content reaching a log.
func hostileBodies(t *testing.T, action string) map[string][]byte {
	wrongCheck := pii.id[:17] + "0"
	if wrongCheck == pii.id {
		wrongCheck = pii.id[:17] + "1"
	}
	pad := strings.Repeat(pii.id+pii.name+pii.phone, int(precheck.MaxBody(action))/30+10)
	return map[string][]byte{
		"truncated":       []byte(`{"IdCard":"` + pii.id + `","Name":"` + pii.name + `","Phone":"` + pii.phone),
		"syntax":          []byte(`{"IdCard" "` + pii.id + `" "Name":"` + pii.name + `"}`),
		"wrong types":     []byte(`{"IdCard":` + pii.id + `,"Name":["` + pii.name + `"],"BankCard":` + pii.card + `}`),
		"bad check digit": jsonOf(t, map[string]string{"IdCard": wrongCheck, "Name": pii.name}),
		"bad name":        jsonOf(t, map[string]string{"IdCard": pii.id, "Name": pii.name + "1" + pii.email}),
		"unknown fields": jsonOf(t, map[string]any{
			"IdCard": pii.id, "Name": pii.name, pii.id: pii.name, pii.email: pii.phone, pii.card: pii.photo,
			"Encryption": map[string]string{pii.phone: pii.card},
		}),
		"case mismatch":  []byte(`{"idcard":"` + pii.id + `","name":"` + pii.name + `"}`),
		"duplicate key":  []byte(`{"IdCard":"` + pii.id + `","Name":"` + pii.name + `","IdCard":"` + pii.card + `"}`),
		"invalid utf-8":  []byte("{\"IdCard\":\"" + pii.id + "\xff\",\"Name\":\"" + pii.name + "\"}"),
		"trailing data":  []byte(`{"IdCard":"` + pii.id + `","Name":"` + pii.name + `"} "` + pii.email + `"`),
		"array body":     []byte(`["` + pii.id + `","` + pii.name + `"]`),
		"deep":           []byte(`{"Encryption":{"EncryptList":` + strings.Repeat("[", 40) + `"` + pii.id + `"` + strings.Repeat("]", 40) + `}}`),
		"oversized":      []byte(`{"IdCard":"` + pii.id + `","Name":"` + pii.name + `","Extra":"` + pad + `"}`),
		"form encoded":   []byte(url.Values{"IdCard": {pii.id}, "Name": {pii.name}, "Phone": {pii.phone}}.Encode()),
		"photo as field": []byte(`{"IdCard":"` + pii.id + `","Name":"` + pii.name + `","ImageBase64":"data:image/jpeg;base64,` + pii.photo + `"}`),
	}
}

// piiHeaders put personal data where a careless logger would copy it.
func piiHeaders(ct string) map[string]string {
	return map[string]string{
		"Content-Type":    ct,
		"User-Agent":      "app/1.0 (" + pii.email + ")",
		"X-Request-Id":    pii.id,
		"X-Forwarded-For": pii.phone,
		"Referer":         "https://shop.example/checkout?phone=" + pii.phone + "&name=" + url.QueryEscape(pii.name),
		"Cookie":          "uid=" + pii.card,
		"X-User-Name":     pii.name,
	}
}

// TestPIINeverLogged runs a full request suite carrying known personal data
// through every surface of the real functions/all binary (local HTTP: the
// /v1/faceid routes and the Tencent API form; direct and HTTP-event
// invocation with `<binary> invoke`), at debug level, and fails if any of it,
// or a long piece of it, appears in anything the processes print.
func TestPIINeverLogged(t *testing.T) {
	bin := buildBinary(t, "all")
	var out capture
	base := startCaptured(t, bin, &out, "IDV_LOG_LEVEL=debug")

	faceidCall := func(action string, body map[string]any) map[string]any {
		c := httpCase{name: action, method: "POST", path: "/v1/faceid/" + action,
			header: piiHeaders("application/json"), body: jsonOf(t, body)}
		status, b := c.do(t, base)
		var env struct{ Response map[string]any }
		if err := json.Unmarshal(b, &env); err != nil || env.Response == nil {
			t.Fatalf("%s: %d %s", action, status, b)
		}
		return env.Response
	}
	tcCall := func(action string, body map[string]any) map[string]any {
		h := piiHeaders("application/json; charset=utf-8")
		h["X-TC-Action"], h["X-TC-Version"] = action, faceid.Version
		status, b := httpCase{name: action, method: "POST", path: "/", header: h, body: jsonOf(t, body)}.do(t, base)
		var env struct{ Response map[string]any }
		if err := json.Unmarshal(b, &env); err != nil || env.Response == nil {
			t.Fatalf("%s: %d %s", action, status, b)
		}
		return env.Response
	}

	served := 0
	for _, a := range faceid.All() {
		for surface, call := range map[string]func(string, map[string]any) map[string]any{"faceid": faceidCall, "tcapi": tcCall} {
			r := call(a.Name, piiRequest(t, a, call))
			if r["Error"] != nil {
				t.Errorf("%s %s: a valid request failed: %v", surface, a.Name, r["Error"])
				continue
			}
			served++
		}
	}

	var cases []httpCase
	for name, body := range hostileBodies(t, "IdCardVerification") {
		cases = append(cases,
			httpCase{name: "faceid " + name, method: "POST", path: "/v1/faceid/IdCardVerification", header: piiHeaders("application/json"), body: body},
			httpCase{name: "tcapi " + name, method: "POST", path: "/", header: tcHeaders("IdCardVerification", "application/json"), body: body})
	}
	valid := jsonOf(t, map[string]string{"IdCard": pii.id, "Name": pii.name})
	q := url.Values{"IdCard": {pii.id}, "name": {pii.name}, "phone": {pii.phone}, "card": {pii.card}, "email": {pii.email}}.Encode()
	huge := append(append([]byte(`{"IdCard":"`+pii.id+`","Name":"`+pii.name+`","Extra":"`), bytes.Repeat([]byte(pii.card), 17<<20/len(pii.card))...), `"}`...)
	cases = append(cases,
		httpCase{name: "text/plain", method: "POST", path: "/v1/faceid/IdCardVerification", header: piiHeaders("text/plain"), body: valid, mayPass: true},
		httpCase{name: "form", method: "POST", path: "/v1/faceid/IdCardVerification", header: piiHeaders("application/x-www-form-urlencoded"), body: []byte(q)},
		httpCase{name: "multipart", method: "POST", path: "/v1/faceid/IdCardVerification", header: piiHeaders("multipart/form-data; boundary=" + pii.phone),
			body: []byte("--" + pii.phone + "\r\nContent-Disposition: form-data; name=\"IdCard\"\r\n\r\n" + pii.id + "\r\n--" + pii.phone + "--\r\n")},
		httpCase{name: "tcapi text/plain", method: "POST", path: "/", header: tcHeaders("IdCardVerification", "text/plain"), body: valid},
		httpCase{name: "tcapi form", method: "POST", path: "/", header: tcHeaders("IdCardVerification", "application/x-www-form-urlencoded"), body: []byte(q)},
		httpCase{name: "GET with query", method: "GET", path: "/v1/faceid/IdCardVerification", query: q, header: piiHeaders("")},
		httpCase{name: "unknown action in path", method: "POST", path: "/v1/faceid/" + pii.id, query: q, header: piiHeaders("application/json"), body: valid},
		httpCase{name: "name in path", method: "POST", path: "/v1/faceid/" + url.PathEscape(pii.name) + "/" + pii.phone, header: piiHeaders("application/json"), body: valid},
		httpCase{name: "unknown route", method: "GET", path: "/users/" + pii.card + "/" + url.PathEscape(pii.email), query: q, header: piiHeaders("")},
		httpCase{name: "unknown route photo", method: "PUT", path: "/" + url.PathEscape(pii.photo), query: "img=" + url.QueryEscape(pii.photo), header: piiHeaders("image/jpeg"), body: []byte(pii.photo)},
		httpCase{name: "tc action is pii", method: "POST", path: "/", header: tcHeaders(pii.id, "application/json"), body: valid},
		httpCase{name: "tc version is pii", method: "POST", path: "/", header: func() map[string]string {
			h := tcHeaders("IdCardVerification", "application/json")
			h["X-TC-Version"] = pii.phone
			return h
		}(), body: valid},
		httpCase{name: "tc3 authorization with pii", method: "POST", path: "/", header: func() map[string]string {
			h := tcHeaders("IdCardVerification", "application/json")
			h["Authorization"] = "TC3-HMAC-SHA256 Credential=" + pii.id + "/2026-03-12/faceid/tc3_request, SignedHeaders=content-type;host, Signature=" + pii.card
			return h
		}(), body: valid, mayPass: true},
		httpCase{name: "bearer with pii", method: "POST", path: "/v1/faceid/IdCardVerification", header: func() map[string]string {
			h := piiHeaders("application/json")
			h["Authorization"] = "Bearer " + pii.card + pii.id
			return h
		}(), body: valid, mayPass: true},
		httpCase{name: "over the server limit", method: "POST", path: "/v1/faceid/IdCardVerification", header: piiHeaders("application/json"), body: huge},
		httpCase{name: "sandbox scenarios", method: "GET", path: "/v1/sandbox/scenarios", query: q, header: piiHeaders(""), mayPass: true},
	)
	refused := 0
	for _, c := range cases {
		status, b := c.do(t, base)
		// A malformed identity is answered as Tencent does: HTTP 200 with the
		// action's free result code (-2, -3), never the success code "0".
		if status == 200 && !bytes.Contains(b, []byte(`"Error"`)) && !c.mayPass && !localAnswer.Match(b) {
			t.Errorf("%s: hostile request answered %d %s", c.name, status, b[:min(len(b), 200)])
			continue
		}
		refused++
	}

	invoked := invokeSuite(t, bin)

	logs := out.String()
	if !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("the server logged no request line: the scan would prove nothing\n%.2000s", logs)
	}
	for _, l := range leaks(logs) {
		t.Errorf("server output contains personal data: %s", l)
	}
	for _, l := range leaks(invoked) {
		t.Errorf("invoke output contains personal data: %s", l)
	}
	t.Logf("%d valid requests, %d refused hostile requests over HTTP; %d bytes of server output, %d of invoke output scanned",
		served, refused, len(logs), len(invoked))
	if t.Failed() {
		for _, l := range strings.Split(logs+invoked, "\n") {
			if len(leaks(l)) > 0 {
				t.Logf("leaking line: %.400s", l)
			}
		}
	}
}

func tcHeaders(action, ct string) map[string]string {
	h := piiHeaders(ct)
	h["X-TC-Action"], h["X-TC-Version"] = action, faceid.Version
	return h
}

// invokeSuite runs `<binary> invoke` with direct payloads and HTTP-shaped
// events carrying personal data, and returns what the processes logged. A
// process's stdout is the answer to the caller, not a log: it must be
// exactly one line, and only the lines before it are scanned with stderr.
func invokeSuite(t *testing.T, bin string) string {
	t.Helper()
	var logs strings.Builder
	run := func(name string, payload []byte) {
		cmd := execCommand(bin, "IDV_LOG_LEVEL=debug", "IDV_SANDBOX_OPEN=true")
		cmd.Args = append(cmd.Args, "invoke")
		cmd.Stdin = bytes.NewReader(payload)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 2) {
			t.Errorf("invoke %s: %v\n%s", name, err, stderr.String())
		}
		lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
		logs.WriteString(stderr.String())
		logs.WriteString(strings.Join(lines[:len(lines)-1], "\n"))
		if !strings.Contains(stderr.String(), `"msg":"request"`) && !strings.Contains(stderr.String(), `"msg":"malformed event"`) {
			t.Errorf("invoke %s logged no request line:\n%s", name, stderr.String())
		}
	}
	call := func(action string, body map[string]any) map[string]any {
		body["Action"] = action
		b := jsonOf(t, body)
		delete(body, "Action")
		cmd := execCommand(bin, "IDV_LOG_LEVEL=debug")
		cmd.Args = append(cmd.Args, "invoke")
		cmd.Stdin = bytes.NewReader(b)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		logs.WriteString(stderr.String())
		var r map[string]any
		_ = json.Unmarshal(stdout.Bytes(), &r)
		return r
	}
	for _, a := range faceid.All() {
		body := piiRequest(t, a, call)
		body["Action"] = a.Name
		run("direct "+a.Name, jsonOf(t, body))
	}
	for name, body := range hostileBodies(t, "IdCardVerification") {
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) == nil {
			m["Action"] = json.RawMessage(`"IdCardVerification"`)
			run("direct "+name, jsonOf(t, m))
		} else {
			run("direct "+name, body)
		}
	}
	run("direct pii action", jsonOf(t, map[string]string{"Action": pii.id, "Name": pii.name}))
	run("direct action type", jsonOf(t, map[string]any{"Action": []string{pii.id}, "Name": pii.name}))

	var event map[string]any
	if err := json.Unmarshal(eventFiles(t)["lambda-http-v2.json"], &event); err != nil {
		t.Fatal(err)
	}
	shaped := func(path, query string, body []byte, b64 bool) []byte {
		e := map[string]any{}
		for k, v := range event {
			e[k] = v
		}
		hdr := map[string]any{}
		for k, v := range piiHeaders("application/json") {
			hdr[strings.ToLower(k)] = v
		}
		rc := map[string]any{}
		for k, v := range event["requestContext"].(map[string]any) {
			rc[k] = v
		}
		httpc := map[string]any{"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.25", "userAgent": pii.email}
		rc["http"] = httpc
		e["requestContext"], e["headers"], e["rawPath"], e["rawQueryString"] = rc, hdr, path, query
		delete(e, "queryStringParameters")
		delete(e, "pathParameters")
		e["isBase64Encoded"] = b64
		if b64 {
			e["body"] = base64.StdEncoding.EncodeToString(body)
		} else {
			e["body"] = string(body)
		}
		return jsonOf(t, e)
	}
	q := url.Values{"IdCard": {pii.id}, "name": {pii.name}}.Encode()
	run("event valid", shaped("/v1/faceid/IdCardVerification", q, jsonOf(t, map[string]string{"IdCard": pii.id, "Name": pii.name}), false))
	run("event base64 body", shaped("/v1/faceid/BankCard4EVerification", q, jsonOf(t, map[string]string{"IdCard": pii.id, "Name": pii.name, "Phone": pii.phone, "BankCard": pii.card}), true))
	run("event pii path", shaped("/v1/faceid/"+pii.id, q, []byte(`{}`), false))
	run("event unknown fields", shaped("/v1/faceid/IdCardVerification", "", hostileBodies(t, "IdCardVerification")["unknown fields"], false))
	broken := shaped("/v1/faceid/IdCardVerification", q, nil, true)
	broken = bytes.Replace(broken, []byte(`"body":""`), []byte(`"body":"`+pii.id+`!!"`), 1)
	run("event broken base64", broken)
	run("not json", []byte(pii.id+" "+pii.name))
	run("utf-8", []byte("{\"Action\":\"IdCardVerification\",\"IdCard\":\""+pii.id+"\xfe\"}"))
	if !utf8.ValidString(pii.name) {
		t.Fatal("name is not UTF-8")
	}
	return logs.String()
}

// Credentials for the scan with callers configured. The restricted key may
// call one action only, to exercise the 403 path.
const (
	piiBearerKey     = "idvk_piiScanBearerKey7Qm2Zx9Lw4Rt6Yp1Hs8Nc3Vb5"
	piiRestrictedKey = "idvk_piiScanRestricted3Df8Gh1Jk6Lm2Np9Qr4St7"
	piiTC3ID         = "AKIDpiiScan0001"
	piiTC3Key        = "piiScanTc3SecretKey4Gh7Jk2Lm9Np5Qr8St1Uv6"
)

// keyLeaks lists the credentials (or 12-character pieces of them) and
// their hashes that appear in out.
func keyLeaks(out string) []string {
	var found []string
	for _, k := range []string{piiBearerKey, piiRestrictedKey, piiTC3Key} {
		for _, v := range []string{k, keySha256(k)} {
			for i := 0; i+12 <= len(v); i++ {
				if strings.Contains(out, v[i:i+12]) {
					found = append(found, fmt.Sprintf("piece %q of %.12s...", v[i:i+12], v))
					break
				}
			}
		}
	}
	return found
}

// TestPIIAndKeysNeverLoggedWithCallers repeats the scan on a server with
// IDV_CALLERS: every action over /v1 with a Bearer key and over the Tencent
// API form signed by the Go SDK with a TC3 key pair, plus wrong keys, wrong
// signatures and a forbidden action. Neither personal data nor the keys,
// their hashes or pieces may appear in the output.
func TestPIIAndKeysNeverLoggedWithCallers(t *testing.T) {
	bin := buildBinary(t, "all")
	callers := `[{"id":"pii-web","keySha256":"` + keySha256(piiBearerKey) + `","actions":["*"]},` +
		`{"id":"pii-narrow","keySha256":"` + keySha256(piiRestrictedKey) + `","actions":["PhoneVerification"]},` +
		`{"id":"pii-partner","secretId":"` + piiTC3ID + `","secretKey":"` + piiTC3Key + `","actions":["*"]}]`
	var out capture
	base := startCaptured(t, bin, &out, "IDV_LOG_LEVEL=debug", "IDV_CALLERS="+callers)

	bearer := func(key string) func(string, map[string]any) (int, map[string]any) {
		return func(action string, body map[string]any) (int, map[string]any) {
			h := piiHeaders("application/json")
			h["Authorization"] = "Bearer " + key
			status, b := httpCase{name: action, method: "POST", path: "/v1/faceid/" + action, header: h, body: jsonOf(t, body)}.do(t, base)
			var env struct{ Response map[string]any }
			if err := json.Unmarshal(b, &env); err != nil || env.Response == nil {
				t.Fatalf("%s: %d %s", action, status, b)
			}
			return status, env.Response
		}
	}
	web := bearer(piiBearerKey)
	webCall := func(action string, body map[string]any) map[string]any { _, r := web(action, body); return r }
	sdkCall := func(action string, body map[string]any) map[string]any {
		code, r := goSDKCall(t, base, piiTC3ID, piiTC3Key, action, string(jsonOf(t, body)))
		if code != "" {
			t.Errorf("TC3 %s: %s", action, code)
		}
		return r
	}
	for _, a := range faceid.All() {
		if status, r := web(a.Name, piiRequest(t, a, webCall)); status != 200 || r["Error"] != nil {
			t.Errorf("bearer %s: %d %v", a.Name, status, r["Error"])
		}
		sdkCall(a.Name, piiRequest(t, a, sdkCall))
	}

	idBody := map[string]any{"IdCard": pii.id, "Name": pii.name}
	for key, want := range map[string]int{
		piiBearerKey[:len(piiBearerKey)-1] + "X": 401, // one character off
		piiTC3Key:                                401, // a TC3 secret sent as a Bearer key
		keySha256(piiBearerKey):                  401, // the hash instead of the key
		pii.id + pii.card:                        401,
		piiRestrictedKey:                         403, // may not call IdCardVerification
		piiBearerKey + " " + pii.id:              401,
	} {
		if status, _ := bearer(key)("IdCardVerification", idBody); status != want {
			t.Errorf("Bearer %.16s...: %d, want %d", key, status, want)
		}
	}
	if code, _ := goSDKCall(t, base, piiTC3ID, piiTC3Key[:len(piiTC3Key)-1]+"X", "IdCardVerification", string(jsonOf(t, idBody))); code != "AuthFailure.SignatureFailure" {
		t.Errorf("wrong TC3 key: %q", code)
	}
	if code, _ := goSDKCall(t, base, pii.phone+"AKID", piiTC3Key, "IdCardVerification", string(jsonOf(t, idBody))); code != "AuthFailure.SecretIdNotFound" {
		t.Errorf("unknown SecretId: %q", code)
	}
	basic := piiHeaders("application/json")
	basic["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(pii.email+":"+piiBearerKey))
	if status, _ := (httpCase{name: "basic", method: "POST", path: "/v1/faceid/IdCardVerification", header: basic, body: jsonOf(t, idBody)}).do(t, base); status != 401 {
		t.Errorf("Basic auth: %d", status)
	}

	logs := out.String()
	if !strings.Contains(logs, `"caller":"pii-web"`) || !strings.Contains(logs, `"caller":"pii-partner"`) {
		t.Fatalf("no request line names the callers: the scan would prove nothing\n%.2000s", logs)
	}
	for _, l := range append(leaks(logs), keyLeaks(logs)...) {
		t.Errorf("server output contains personal data or a key: %s", l)
	}
	if t.Failed() {
		for _, l := range strings.Split(logs, "\n") {
			if len(leaks(l))+len(keyLeaks(l)) > 0 {
				t.Logf("leaking line: %.400s", l)
			}
		}
	}
	t.Logf("%d bytes of server output scanned", len(logs))
}
