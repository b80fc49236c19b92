package sandboxh5

import (
	"html"
	"strings"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/sandboxflow"
)

// The pages are small enough to write out: every value that did not come
// from this file goes through html.EscapeString.

var esc = html.EscapeString

// standIn says which provider page a sandbox page replaces.
var standIn = map[string]struct{ title, what string }{
	sandboxflow.KindDetect:    {"Face verification (DetectAuth)", "Tencent FaceID's H5 face verification page: the Url DetectAuth returns"},
	sandboxflow.KindEid:       {"eID verification (GetEidToken)", "Tencent FaceID's eID page: the Url GetEidToken returns"},
	sandboxflow.KindFaceprint: {"Baidu face real-name (faceprint)", "Baidu's H5 page https://brain.baidu.com/face/print/ for a verify_token"},
}

func head(title string) string {
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>` + esc(title) + ` · idverify sandbox</title>
<link rel="stylesheet" href="` + Prefix + `/page.css">
<script src="` + Prefix + `/page.js" defer></script>
</head>
<body>
<main>
<p class="banner"><strong>Sandbox.</strong> Nothing is verified and nothing is billed: this page stands in for the provider's own page so a flow can run end to end with no account and no face.</p>
`
}

const foot = `<footer>idverify sandbox · the outcomes are the sandbox's documented result codes (GET /v1/sandbox/scenarios)</footer>
</main>
</body>
</html>
`

func facts(f *flow) string {
	var b strings.Builder
	b.WriteString(`<dl class="facts">`)
	row := func(k, v string) {
		if v != "" {
			b.WriteString("<dt>" + esc(k) + "</dt><dd>" + esc(v) + "</dd>")
		}
	}
	row("flow", f.action)
	row("token", f.token)
	// Only what the issuing call stored, masked (never a full ID number).
	row("name", f.st.IDName)
	row("ID number", f.st.IDNo)
	switch f.kind {
	case sandboxflow.KindFaceprint:
		row("on success", f.st.SuccessURL)
		row("on failure", f.st.FailedURL)
	default:
		row("returns to", f.st.Redirect)
	}
	b.WriteString("</dl>\n")
	return b.String()
}

func choosePage(f *flow) string {
	s := standIn[f.kind]
	var b strings.Builder
	b.WriteString(head(s.title))
	b.WriteString("<h1>" + esc(s.title) + "</h1>\n")
	b.WriteString(`<p class="sub">Stands in for ` + esc(s.what) + `. Choose how the person's flow ends.</p>` + "\n")
	b.WriteString(facts(f))
	// No action attribute: the form posts to this very URL (its query
	// included, where Baidu's successUrl and failedUrl may be).
	b.WriteString(`<form id="outcomes" method="post">` + "\n")
	b.WriteString(`<input type="hidden" name="token" value="` + esc(f.token) + `">` + "\n")
	outs := Outcomes(f.kind)
	for _, cat := range categories {
		var rows []Outcome
		for _, o := range outs {
			if o.Category == cat.key {
				rows = append(rows, o)
			}
		}
		if len(rows) == 0 {
			continue
		}
		b.WriteString(`<section class="` + cat.key + `"><h2>` + esc(cat.title) + "</h2>\n")
		for _, o := range rows {
			code := ""
			if o.Code != "" {
				code = `<span class="code">` + esc(o.Code) + `</span>`
			}
			b.WriteString(`<button type="submit" name="outcome" value="` + esc(o.Value) + `" data-code="` + esc(o.Code) +
				`" data-category="` + esc(o.Category) + `"><span>` + esc(o.Description) + `</span>` + code + "</button>\n")
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</form>\n")
	b.WriteString(foot)
	return b.String()
}

func finishedPage(f *flow) string {
	s := standIn[f.kind]
	return head(s.title) + `<div class="done" id="finished"><h1>Finished</h1><p>This flow is over. You can close this page.</p></div>` + "\n" + facts(f) + foot
}

func leftPage(f *flow) string {
	s := standIn[f.kind]
	return head(s.title) + `<div class="done" id="left"><h1>Left without finishing</h1><p>The flow stays in progress until it expires, as when a person closes the provider's page. You can close this page.</p></div>` + "\n" + facts(f) + foot
}

func redirectingPage(to string) string {
	return head("Returning") + `<div class="done"><p>Returning to <a href="` + esc(to) + `">the caller's page</a>…</p></div>` + "\n" + foot
}

func errorPage(e *errs.Error, requestID string) string {
	return head("Cannot continue") + `<div class="error" id="error"><h1>Cannot continue</h1><p>` + esc(e.PublicMessage()) +
		`</p><p class="sub">code ` + esc(e.Code) + ` · request ` + esc(requestID) + `</p></div>` + "\n" + foot
}
