// Package sandboxh5 serves the sandbox's H5 pages: the pages DetectAuth's
// Url, GetEidToken's Url and (for Baidu, whose verifyToken/generate answers
// no URL) the sandbox's X-Idv-Sandbox-Url header point at, standing in for
// Tencent's face verification page, the eID page and Baidu's
// https://brain.baidu.com/face/print/. A tester picks how the flow ends
// (the sandbox's documented result codes, or giving up, or leaving); the
// page records the choice in the sandbox flow store (shared/sandboxflow,
// shared with the providers' sandboxes) and sends the browser back where
// the provider's page would: DetectAuth's RedirectUrl and GetEidToken's
// RedirectUrl with token=<the token> added to the query, Baidu's
// successUrl or failedUrl.
//
// The routes are public (a browser holds no caller key): what proves the
// right to choose is the flow token itself, which only the sandbox issues
// (a live token is refused), plus a same-origin check on the choice. The
// pages are plain HTML built here (no html/template, which would grow
// every functions/all binary), with one small script and one style sheet,
// embedded, under a strict Content-Security-Policy.
package sandboxh5

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/sandbox"
	"github.com/idverify/idverify/shared/sandboxflow"
)

// Prefix is where the pages live: <IDV_PUBLIC_URL>/sandbox/h5/...
const Prefix = "/sandbox/h5"

var (
	//go:embed page.css
	pageCSS []byte
	//go:embed page.js
	pageJS []byte
)

// Assets are the pages' style and script, served as static pages.
func Assets() map[string]gateway.Page {
	return map[string]gateway.Page{
		Prefix + "/page.css": {ContentType: "text/css; charset=utf-8", Body: pageCSS},
		Prefix + "/page.js":  {ContentType: "text/javascript; charset=utf-8", Body: pageJS},
	}
}

// Options configure the pages.
type Options struct {
	// Flows is the store the providers' sandboxes use (app.Env.SandboxFlows).
	Flows sandboxflow.Store
	// Now is the clock (nil: time.Now).
	Now func() time.Time
	// Served is false where nothing issues sandbox tokens (every provider
	// live, no test caller): every page answers 404 and says why.
	Served bool
	// Why says why the pages are not served.
	Why string
}

// Contract is the pages' gateway contract.
type Contract struct{ opts Options }

var _ gateway.Contract = (*Contract)(nil)

// New builds the pages' contract.
func New(opts Options) *Contract {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Flows == nil {
		opts.Flows = sandboxflow.NewMemory(opts.Now)
	}
	return &Contract{opts: opts}
}

// Name is "sandboxh5".
func (c *Contract) Name() string { return "sandboxh5" }

// Mode is sandbox: the pages only ever finish sandbox flows.
func (c *Contract) Mode() string { return "sandbox" }

// request is what Route learns from the HTTP request for Call.
type request struct {
	kind     string // sandboxflow.Kind*
	method   string
	query    url.Values
	origin   string // Origin header
	fetch    string // Sec-Fetch-Site header
	host     string // Host header
	formType bool   // a form body (application/x-www-form-urlencoded)
}

// maxBody caps a choice: a token, an outcome and nothing else.
const maxBody = 4 << 10

var kinds = map[string]string{
	Prefix + "/detect":    sandboxflow.KindDetect,
	Prefix + "/eid":       sandboxflow.KindEid,
	Prefix + "/faceprint": sandboxflow.KindFaceprint,
}

// Route claims the pages' paths.
func (c *Contract) Route(req *gateway.Request) (gateway.Op, bool) {
	if req.Path != Prefix && !strings.HasPrefix(req.Path, Prefix+"/") {
		return gateway.Op{}, false
	}
	op := gateway.Op{Action: "sandbox/h5", Surface: "sandboxh5", Public: true, Control: true, JSON: gateway.NoBody, MaxBody: maxBody}
	kind, ok := kinds[req.Path]
	switch {
	case !c.opts.Served:
		op.Err = errs.E(errs.NotFound, "NotFound", "the sandbox pages are not served here: %s", c.opts.Why)
	case !ok:
		op.Err = errs.E(errs.NotFound, "NotFound", "no sandbox page at this address: the pages are %s/detect, %s/eid and %s/faceprint", Prefix, Prefix, Prefix)
	case req.Method != http.MethodGet && req.Method != http.MethodHead && req.Method != http.MethodPost:
		op.Err = errs.E(errs.NotFound, "MethodNotAllowed", "a sandbox page answers GET and POST")
		op.Status = http.StatusMethodNotAllowed
		op.Header = http.Header{"Allow": {"GET, HEAD, POST"}}
	}
	q, _ := url.ParseQuery(req.RawQuery)
	mt := strings.TrimSpace(strings.Split(req.Header.Get("Content-Type"), ";")[0])
	op.Data = &request{kind: kind, method: req.Method, query: q, origin: req.Header.Get("Origin"),
		fetch: req.Header.Get("Sec-Fetch-Site"), host: req.Header.Get("Host"),
		formType: strings.EqualFold(mt, "application/x-www-form-urlencoded")}
	return op, true
}

// RouteInvoke: the pages are for browsers only.
func (c *Contract) RouteInvoke(string, map[string]json.RawMessage) (gateway.Op, bool) {
	return gateway.Op{}, false
}

// Call shows a page (GET) or records a choice (POST).
func (c *Contract) Call(ctx context.Context, call *gateway.Call) (*gateway.Answer, error) {
	r, _ := call.Op.Data.(*request)
	if r == nil {
		return nil, errs.E(errs.Internal, "", "sandbox page without its request")
	}
	if r.method == http.MethodPost {
		return c.choose(ctx, r, call.Body)
	}
	return c.show(ctx, r)
}

// flow is a token checked for a page.
type flow struct {
	kind, token string
	action      string // the issuing call, for the page
	st          sandboxflow.State
}

// errExpired and the others are the refusals a tester sees as pages.
var (
	errNotSandbox = errs.E(errs.NotFound, "NotSandboxToken", "this is not a token the sandbox issued: the sandbox pages only finish sandbox flows (a live token belongs on the provider's own page)")
	errExpired    = &errs.Error{Kind: errs.Invalid, Code: "TokenExpired", Message: "this flow has expired: start a new one"}
	errCrossSite  = errs.E(errs.Forbidden, "CrossSite", "the choice did not come from this page (cross-site request refused)")
)

// open checks the token a page was given and loads its flow.
func (c *Contract) open(ctx context.Context, kind, token string) (*flow, error) {
	now := c.opts.Now()
	f := &flow{kind: kind, token: token}
	switch kind {
	case sandboxflow.KindDetect, sandboxflow.KindEid:
		pt, ok := sandbox.ParsePageToken(token, now)
		if !ok || pt.Kind != kind {
			return nil, errNotSandbox
		}
		if pt.Expired {
			return nil, errExpired
		}
		f.action = pt.Action
	case sandboxflow.KindFaceprint:
		_, expired, ok := faceprint.ParsePageToken(token, now)
		if !ok {
			return nil, errNotSandbox
		}
		if expired {
			return nil, errExpired
		}
		f.action = "verifyToken/generate"
	default:
		return nil, errNotSandbox
	}
	st, ok, err := c.opts.Flows.Load(ctx, token)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Issued by an instance that shares no store with this one: the
		// flow still works, with no redirect to follow.
		st = sandboxflow.State{Kind: kind}
	}
	f.st = st
	return f, nil
}

func (c *Contract) show(ctx context.Context, r *request) (*gateway.Answer, error) {
	f, err := c.open(ctx, r.kind, r.query.Get("token"))
	if err != nil {
		return nil, err
	}
	if f.kind == sandboxflow.KindFaceprint && !f.st.Verified {
		// A client that built Baidu's H5 URL itself names its own
		// redirects in it; the ones given to verifyToken/generate win.
		f.st.SuccessURL = first(f.st.SuccessURL, httpURL(r.query.Get("successUrl")))
		f.st.FailedURL = first(f.st.FailedURL, httpURL(r.query.Get("failedUrl")))
	}
	if f.st.Finished() || f.st.Verified {
		return page(http.StatusOK, finishedPage(f), "", nil), nil
	}
	if !f.st.Opened && r.method == http.MethodGet {
		f.st.Opened = true
		if err := c.opts.Flows.Save(ctx, f.token, f.st, sandbox.FlowTTL); err != nil {
			return nil, err
		}
	}
	return page(http.StatusOK, choosePage(f), formAction(f), nil), nil
}

func (c *Contract) choose(ctx context.Context, r *request, body []byte) (*gateway.Answer, error) {
	if !sameOrigin(r) {
		return nil, errCrossSite
	}
	if !r.formType {
		return nil, errs.E(errs.Invalid, "UnsupportedMediaType", "a choice is sent by the page's form (application/x-www-form-urlencoded)")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, errs.E(errs.Invalid, "InvalidParameter", "the form could not be read")
	}
	f, err := c.open(ctx, r.kind, form.Get("token"))
	if err != nil {
		return nil, err
	}
	o, ok := find(f.kind, form.Get("outcome"))
	if !ok {
		return nil, errs.E(errs.Invalid, "InvalidParameter", "outcome must be one of the page's choices")
	}
	if f.st.Finished() || f.st.Verified {
		if f.st.Chosen && o.Value == chosenValue(f.st) || f.st.GaveUp && o.Value == GiveUp {
			// The same choice again (a reload, a double tap): the same
			// answer.
			return c.leavePage(f, o)
		}
		return nil, errs.E(errs.Conflict, "FlowFinished", "this flow is already finished: start a new one to choose another outcome")
	}
	if f.kind == sandboxflow.KindFaceprint {
		f.st.SuccessURL = first(f.st.SuccessURL, httpURL(r.query.Get("successUrl")))
		f.st.FailedURL = first(f.st.FailedURL, httpURL(r.query.Get("failedUrl")))
	}
	f.st.Opened = true
	switch o.Value {
	case Leave:
		// Nothing returns: the flow stays as it is, in progress.
	case GiveUp:
		f.st.GaveUp = true
	default:
		f.st.Chosen = true
		f.st.Outcome = atoi(o.Value)
		if f.kind == sandboxflow.KindFaceprint {
			// Verified (核验完毕): no more submit or upload.
			f.st.Verified = true
		}
	}
	if o.Value != Leave {
		// A redirect that cannot be followed is refused before anything
		// is recorded, so the tester can see why and nothing changed.
		if _, err := redirectFor(f, o); err != nil {
			return nil, err
		}
	}
	if err := c.opts.Flows.Save(ctx, f.token, f.st, sandbox.FlowTTL); err != nil {
		return nil, err
	}
	return c.leavePage(f, o)
}

// leavePage sends the browser where the provider's page would, or says the
// flow is over when there is nowhere to go.
func (c *Contract) leavePage(f *flow, o Outcome) (*gateway.Answer, error) {
	if o.Value == Leave {
		return page(http.StatusOK, leftPage(f), "", nil), nil
	}
	to, err := redirectFor(f, o)
	if err != nil {
		return nil, err
	}
	if to == "" {
		return page(http.StatusOK, finishedPage(f), "", nil), nil
	}
	return page(http.StatusSeeOther, redirectingPage(to), "", map[string]string{"Location": to}), nil
}

// redirectFor is the provider's redirect for outcome o: Tencent adds the
// token to RedirectUrl's query (BizToken for DetectAuth; EidToken for
// eID, "EidToken会在该链接的query参数中"); Baidu goes to successUrl when the
// user passed, else failedUrl, as given (UNCONFIRMED: what Baidu's page
// appends to them is not documented in what we have; the sandbox appends
// nothing).
func redirectFor(f *flow, o Outcome) (string, error) {
	switch f.kind {
	case sandboxflow.KindFaceprint:
		if o.Value == "0" {
			return f.st.SuccessURL, nil
		}
		return f.st.FailedURL, nil
	default:
		if f.st.Redirect == "" {
			return "", nil
		}
		to, err := sandbox.RedirectURL(f.st.Redirect, f.token)
		if err != nil {
			return "", errs.E(errs.Invalid, "InvalidRedirectUrl", "the RedirectUrl given when the flow started is not an http(s) URL")
		}
		return to, nil
	}
}

// sameOrigin: a browser's POST carries Origin (and Sec-Fetch-Site); a
// choice from another site is refused. A request with neither is not
// from a browser page (curl) and cannot ride a visitor's session: there
// is none, the token is the capability.
func sameOrigin(r *request) bool {
	switch r.fetch {
	case "", "same-origin", "none":
	default:
		return false
	}
	if r.origin == "" {
		return true
	}
	if r.origin == "null" {
		// An opaque origin (a privacy setting, a sandboxed frame): only
		// the browser's own same-origin verdict lets it through.
		return r.fetch == "same-origin"
	}
	u, err := url.Parse(r.origin)
	return err == nil && u.Host != "" && strings.EqualFold(u.Host, r.host)
}

func chosenValue(st sandboxflow.State) string { return itoa(st.Outcome) }

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// httpURL keeps an absolute http(s) URL, "" for anything else.
func httpURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(s) > 1024 {
		return ""
	}
	return s
}

// hostRE is what may appear of a redirect's origin in the CSP.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9.\-:\[\]]+$`)

// cspOrigin is the origin of u for form-action (Chrome applies it to the
// redirect that follows a form's POST), "" when unusable.
func cspOrigin(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !hostRE.MatchString(u.Host) {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// formAction lists where a choice may lead: this page, then the flow's
// redirects, and on from there to any web origin. Chrome applies
// form-action to every redirect that follows the POST, and a redirect may
// itself redirect: a flow's return route (shared/flows) sends the browser
// on to the caller's own page, whose origin this page cannot know. The
// page has no content of anyone else's to post, so the open tail costs
// nothing.
func formAction(f *flow) string {
	out := "'self'"
	for _, u := range []string{f.st.Redirect, f.st.SuccessURL, f.st.FailedURL} {
		if o := cspOrigin(u); o != "" && !strings.Contains(out, " "+o) {
			out += " " + o
		}
	}
	return out + " https: http:"
}

// csp lets the page load its own style and script only, and post its form
// to itself (and follow the redirect to the flow's own URLs).
func csp(formAction string) string {
	if formAction == "" {
		formAction = "'self'"
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action " + formAction
}

func page(status int, body, formAction string, extra map[string]string) *gateway.Answer {
	h := map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": csp(formAction),
		"X-Frame-Options":         "DENY",
		// The page's URL holds the token: never send it to another site
		// (same-origin, not no-referrer, which would make the browser send
		// "Origin: null" with the page's own form).
		"Referrer-Policy": "same-origin",
	}
	for k, v := range extra {
		h[k] = v
	}
	// Code (logged) carries the page's HTTP status to Render.
	return &gateway.Answer{Body: []byte(body), Header: h, Sandbox: true, Code: itoa(status)}
}

// Render: the page, or the error as a page.
func (c *Contract) Render(op gateway.Op, ans *gateway.Answer, e *errs.Error, requestID string) *gateway.Response {
	h := http.Header{}
	if e != nil {
		status := e.Kind.HTTPStatus()
		if op.Status != 0 {
			status = op.Status
		}
		if e.Code == errExpired.Code {
			status = http.StatusGone
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", csp(""))
		h.Set("Referrer-Policy", "same-origin")
		return &gateway.Response{Status: status, Header: h, Body: []byte(errorPage(e, requestID))}
	}
	status := http.StatusOK
	if s := atoi(ans.Code); s >= 200 && s < 600 {
		status = s
	}
	return &gateway.Response{Status: status, Header: h, Body: ans.Body}
}

// Output: never invoked directly (RouteInvoke claims nothing).
func (c *Contract) Output(gateway.Op, *gateway.Answer) ([]byte, error) {
	return nil, errs.E(errs.NotFound, "NotFound", "the sandbox pages are for browsers")
}

func itoa(n int) string { return strconv.Itoa(n) }

// atoi reads a number the page offered; -1 for anything else.
func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}
