package sandbox

import (
	"context"
	"net/url"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/sandboxflow"
	"github.com/idverify/idverify/shared/validate"
)

// The sandbox H5 pages (shared/sandboxh5) stand in for Tencent's face flow
// page (DetectAuth's Url) and the eID page (GetEidToken's Url). A tester
// picks an outcome there; the page records it in the flow store
// (Options.Flows) and GetDetectInfo[Enhanced], CheckEidTokenStatus and
// GetEidResult answer it. A token never opened in a page keeps the
// magic-value behaviour.

// PageOutcome is one outcome a page offers: Index is its number in the
// issuing action's table (the magic value NN that reaches it, 0 for the
// success outcome), Code and Description Tencent's.
type PageOutcome struct {
	Index       int
	Code        string
	Description string
	// Category groups outcomes for the tester: "passes", "liveness" (the
	// liveness check fails), "mismatch" (the face does not match),
	// "identity" (the ID is invalid or not the name's), "other".
	Category string
}

// PageOutcomes lists the outcomes a page may choose for a flow issued by
// action (DetectAuth or GetEidToken): the documented results of the
// action's scenario table, without the ones that are not a person's
// result (a pending flow, an eID status, an error before the flow).
func PageOutcomes(action string) []PageOutcome {
	pl := plans()[action]
	if pl == nil {
		return nil
	}
	var out []PageOutcome
	for i, o := range pl.outcomes {
		if o.Status != "" || o.Error {
			continue
		}
		fc := flowCodeOf(o)
		out = append(out, PageOutcome{Index: i, Code: o.Code, Description: o.Description, Category: fc.category()})
	}
	return out
}

func (f flowCode) category() string {
	switch {
	case f.code == 0:
		return "passes"
	case f.stage == stageLive:
		return "liveness"
	case f.code == 2015 || f.code == 2016:
		return "mismatch"
	case f.code == 2005 || f.code == 2006:
		return "identity"
	}
	return "other"
}

// PageToken is what a page may know of a flow token.
type PageToken struct {
	Action string // DetectAuth or GetEidToken
	Kind   string // sandboxflow.KindDetect or KindEid
	Issued time.Time
	// Expired: past the time the user has to finish the flow (eID's 600
	// s; DetectAuth's results are kept 3 days and Tencent documents no
	// shorter limit for its page, so 3 days).
	Expired bool
}

// ParsePageToken checks a BizToken or EidToken the sandbox issued; ok is
// false for anything else (a live token, a mistyped or invented one).
func ParsePageToken(s string, now time.Time) (PageToken, bool) {
	t, ok := parseToken(s)
	if !ok {
		return PageToken{}, false
	}
	switch t.kind {
	case kindBiz:
		return PageToken{Action: "DetectAuth", Kind: sandboxflow.KindDetect, Issued: t.issued,
			Expired: !now.Before(t.issued.Add(resultTTL))}, true
	case kindEid:
		return PageToken{Action: "GetEidToken", Kind: sandboxflow.KindEid, Issued: t.issued,
			Expired: !now.Before(t.issued.Add(eidVerifyTTL))}, true
	}
	return PageToken{}, false
}

// FlowTTL is how long a flow's page state is kept: as long as its result
// can be pulled.
const FlowTTL = resultTTL

// recordFlow keeps what a browser flow's page needs at issue time: where
// to send the browser back, and the identity masked as Baidu masks it
// (never the full ID number).
func (p *Provider) recordFlow(c *call, tok, kind string, redirect *string, who *person) error {
	if p.state == nil {
		return nil
	}
	st := sandboxflow.State{Kind: kind, Redirect: deref(redirect)}
	if who != nil {
		st.IDName, st.IDNo = sandboxflow.MaskName(who.Name), sandboxflow.MaskID(who.IDCard)
	}
	if err := p.state.Save(c.ctx, tok, st, FlowTTL); err != nil {
		return c.fail(errs.Unavailable, "InternalError", "the sandbox flow store could not be reached")
	}
	return nil
}

// pageChoice applies what a tester did on the page to a flow: the chosen
// outcome, or an unfinished flow (opened and left, or given up). ok is
// false when no page was involved.
func (p *Provider) pageChoice(c *call, tok, issuer string, f *flow) (inProgress bool, err error) {
	if p.state == nil {
		return false, nil
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	st, ok, err := p.state.Load(ctx, tok)
	if err != nil {
		return false, c.fail(errs.Unavailable, "InternalError", "the sandbox flow store could not be reached")
	}
	if !ok || !st.Opened {
		return false, nil
	}
	if st.Chosen {
		pl := plans()[issuer]
		if st.Outcome >= 0 && st.Outcome < len(pl.outcomes) {
			f.o = pl.outcomes[st.Outcome]
			f.code = flowCodeOf(f.o)
			return false, nil
		}
	}
	return true, nil
}

// RedirectURL is where a provider's page sends the browser when the flow
// ends: base with token=<tok> added to its query (DetectAuth's
// RedirectUrl gets the BizToken, GetEidToken's the EidToken: "EidToken会在
// 该链接的query参数中"), the rest of its query kept.
func RedirectURL(base, tok string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", &validate.RuleError{Rule: "must be an http or https URL"}
	}
	q := u.Query()
	if q.Has("token") {
		q.Set("token", tok)
		u.RawQuery = q.Encode()
	} else if u.RawQuery == "" {
		u.RawQuery = "token=" + url.QueryEscape(tok)
	} else {
		u.RawQuery += "&token=" + url.QueryEscape(tok)
	}
	return u.String(), nil
}
