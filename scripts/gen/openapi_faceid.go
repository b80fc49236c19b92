package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/idverify/idverify/shared/sandbox"
)

// requestEnums are the closed value sets the precheck enforces on request
// fields (shared/precheck checkSpecial), keyed Action.Field.
var requestEnums = map[string][]any{
	"EncryptedPhoneVerification.EncryptionMode": {"0", "1", "2", "3"},
}

// fieldSchema is the JSON Schema of one spec field.
func fieldSchema(action string, f oaField, media map[string]int) *obj {
	t := strings.TrimSpace(f.Type)
	var s *obj
	if inner, ok := strings.CutPrefix(t, "Array<"); ok && strings.HasSuffix(inner, ">") {
		s = o("type", "array", "items", typeSchema(strings.TrimSuffix(inner, ">"), f.Name))
	} else {
		s = typeSchema(t, f.Name)
	}
	desc := f.Description
	if n, ok := media[f.Name]; ok {
		s.set("contentEncoding", "base64")
		s.set("maxLength", n)
		desc = strings.TrimSpace(desc + fmt.Sprintf(" (Checked here: standard base64, at most %d MiB encoded.)", n>>20))
	}
	if vals, ok := requestEnums[action+"."+f.Name]; ok {
		s.set("enum", vals)
	}
	if f.Nullable {
		if ty, ok := s.get("type").(string); ok {
			s.vals["type"] = []any{ty, "null"}
		} else {
			s = o("anyOf", []any{s, o("type", "null")})
		}
	}
	if _, isRef := s.get("$ref").(string); isRef {
		// A $ref with siblings is allowed in 3.1, but keep the ref clean.
		s = o("allOf", []any{s})
	}
	s.set("description", desc)
	if f.Deprecated {
		s.set("deprecated", true)
	}
	return s
}

func typeSchema(t, name string) *obj {
	switch t {
	case "string":
		return o("type", "string")
	case "boolean":
		return o("type", "boolean")
	case "number", "number | bigint":
		if floatFields[name] {
			return o("type", "number")
		}
		return o("type", "integer", "format", "int64")
	}
	return o("$ref", "#/components/schemas/"+t)
}

func objectSchema(action string, fields []oaField, media map[string]int, request bool, desc string) *obj {
	props := o()
	var req []any
	for _, f := range fields {
		props.set(f.Name, fieldSchema(action, f, media))
		if request && f.Required {
			req = append(req, f.Name)
		}
	}
	s := o("type", "object", "description", desc)
	s.set("required", req)
	s.set("properties", props)
	if request {
		// The precheck refuses unknown members, case-only near misses named.
		s.set("additionalProperties", false)
	}
	return s
}

func mediaLimits(a specAction) map[string]int {
	m := map[string]int{}
	for _, l := range a.Gateway.SizeLimits {
		if n, ok := mediaLimit(l); ok {
			m[l.Field] = n
		}
	}
	return m
}

func faceidSchemas(s *spec, x *oaSpec, schemas *obj) {
	extra := extraActions(x)
	for _, a := range s.Actions {
		xa := extra[a.Action]
		media := mediaLimits(a)
		schemas.set(a.Action+"Request", objectSchema(a.Action, xa.Request, media, true, "The request of "+a.Action+"."))
		schemas.set(a.Action+"Response", objectSchema(a.Action, xa.Response, nil, false, "The inner `Response` object of "+a.Action+": everything Tencent returns, byte for byte."))
	}
	names := make([]string, 0, len(x.Structs))
	for n := range x.Structs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := x.Structs[n]
		schemas.set(n, objectSchema(n, st.Fields, nil, false, st.Description))
	}
}

type extraAction = struct {
	Action      string    `json:"action"`
	Description string    `json:"description"`
	Deprecated  bool      `json:"deprecated"`
	Deprecation string    `json:"deprecation"`
	Request     []oaField `json:"request"`
	Response    []oaField `json:"response"`
}

func extraActions(x *oaSpec) map[string]extraAction {
	m := make(map[string]extraAction, len(x.Actions))
	for _, a := range x.Actions {
		m[a.Action] = a
	}
	return m
}

func faceidOps(s *spec, x *oaSpec) ([]apiOp, error) {
	extra := extraActions(x)
	byAction := map[string][]sandbox.Scenario{}
	for _, sc := range sandbox.Scenarios() {
		byAction[sc.Action] = append(byAction[sc.Action], sc)
	}
	var ops []apiOp
	for _, a := range s.Actions {
		xa := extra[a.Action]
		op := apiOp{
			Path: "/v1/faceid/" + a.Action, Method: http.MethodPost, Tag: "FaceID", ID: a.Action,
			Summary:     a.Action + ": " + firstSentence(xa.Description, 60),
			Deprecated:  xa.Deprecated || xa.Deprecation != "",
			Params:      []any{o("$ref", "#/components/parameters/IdempotencyKey")},
			Request:     o("$ref", "#/components/schemas/"+a.Action+"Request"),
			Success:     o("type", "object", "required", []any{"Response"}, "properties", o("Response", o("$ref", "#/components/schemas/"+a.Action+"Response"))),
			SuccessText: "The FaceID answer `{\"Response\":{...}}`: the provider's inner object passed through byte for byte (a result code in it may still be a failed verification: see the result codes).",
			Errors:      errorStatuses,
			ErrorSchema: "FaceIDError",
			Function:    kebab(a.Action),
		}
		for _, f := range xa.Request {
			op.Fields = append(op.Fields, docField{Name: f.Name, Type: f.Type, Description: f.Description, Required: f.Required, Deprecated: f.Deprecated})
		}
		ext := o("x-idv-function", "functions/"+kebab(a.Action), "x-idv-tencent-qps", a.Gateway.QPS)
		if bl := a.Gateway.Billing; bl != nil {
			var rs []any
			for _, c := range bl.Charged {
				op.Results = append(op.Results, docResult{c.Code, c.Desc, true})
				rs = append(rs, o("code", c.Code, "description", c.Desc, "charged", true))
			}
			for _, c := range bl.Free {
				op.Results = append(op.Results, docResult{c.Code, c.Desc, false})
				rs = append(rs, o("code", c.Code, "description", c.Desc, "charged", false))
			}
			ext.set("x-idv-results", rs)
		}
		op.Extensions = ext
		op.Description = faceidDescription(a, xa)
		exs, err := faceidExamples(a, xa, byAction[a.Action])
		if err != nil {
			return nil, err
		}
		op.Examples = exs
		ops = append(ops, op)
	}
	return ops, nil
}

func faceidDescription(a specAction, xa extraAction) string {
	var b strings.Builder
	b.WriteString(xa.Description)
	b.WriteString("\n\n")
	if xa.Deprecated || xa.Deprecation != "" {
		b.WriteString("**Deprecated:** Tencent no longer onboards new users to this action; existing users still call it. ")
		if xa.Deprecation != "" {
			b.WriteString(xa.Deprecation)
		}
		b.WriteString("\n\n")
	}
	fmt.Fprintf(&b, "Function `functions/%s`; also served by `functions/all` and, with `X-TC-Action: %s`, on the Tencent API form. Tencent's default limit: %d requests/s per account, enforced here before the call in live mode (`IDV_PROVIDER_QPS`).\n\n", kebab(a.Action), a.Action, a.Gateway.QPS)
	media := mediaLimits(a)
	if len(media) > 0 {
		var parts []string
		total := 0
		for _, l := range a.Gateway.SizeLimits {
			if n, ok := media[l.Field]; ok {
				parts = append(parts, fmt.Sprintf("`%s` at most %d MiB of base64", l.Field, n>>20))
				total += n
			}
		}
		fmt.Fprintf(&b, "**Size limits:** %s; the body may be at most %d bytes (the media limits, 1/32 more for escaped `/`, and 64 KiB for the other fields), else 413 `RequestSizeLimitExceeded`.\n\n", strings.Join(parts, ", "), total+total/32+64<<10)
	} else {
		b.WriteString("**Size limit:** the body may be at most 65536 bytes, else 413 `RequestSizeLimitExceeded`.\n\n")
	}
	if bl := a.Gateway.Billing; bl != nil {
		fmt.Fprintf(&b, "**Result codes** (`%s`; a free code is not billed by Tencent, and a malformed value gets its free code here, before any paid call):\n\n| code | description | billed |\n|---|---|---|\n", resultField(xa))
		for _, c := range bl.Charged {
			fmt.Fprintf(&b, "| `%s` | %s | charged |\n", c.Code, c.Desc)
		}
		for _, c := range bl.Free {
			fmt.Fprintf(&b, "| `%s` | %s | free |\n", c.Code, c.Desc)
		}
		b.WriteString("\n")
	}
	if len(a.Gateway.ErrorCodes) > 0 {
		codes := append([]string(nil), a.Gateway.ErrorCodes...)
		sort.Strings(codes)
		for i, c := range codes {
			codes[i] = "`" + c + "`"
		}
		fmt.Fprintf(&b, "**Tencent error codes** (`Response.Error.Code`): %s.\n\n", strings.Join(codes, ", "))
	}
	b.WriteString("The examples are rows of the sandbox table (`GET /v1/sandbox/scenarios`); `Error.Message` and ids vary.")
	return b.String()
}

func resultField(xa extraAction) string {
	for _, f := range xa.Response {
		if f.Name == "Result" || f.Name == "ResultCode" {
			return f.Name
		}
	}
	return "Result"
}

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// faceidExamples turns an action's sandbox rows into examples. Left out:
// outcomes the sandbox does not emulate (account arrears...), expiry rows
// (they need the clock moved), and rows whose request holds today's date
// (GetWeChatBillDetails: the document must not change from day to day).
func faceidExamples(a specAction, xa extraAction, rows []sandbox.Scenario) ([]apiExample, error) {
	types := map[string]string{}
	for _, f := range xa.Response {
		types[f.Name] = f.Type
	}
	var out []apiExample
	for _, sc := range rows {
		if sc.ReachedBy == sandbox.ReachedByNotEmulated || sc.After != "" {
			continue
		}
		var req map[string]any
		if err := json.Unmarshal(sc.Request, &req); err != nil {
			return nil, fmt.Errorf("sandbox row of %s: %w", a.Action, err)
		}
		if d, ok := req["Date"].(string); ok && isoDate.MatchString(d) {
			continue
		}
		if outsideEnum(a.Action, req) {
			continue // a value the schema already rules out
		}
		if sc.Start == nil && bytes.Contains(sc.Request, []byte("<token")) {
			continue
		}
		n := len(out) + 1
		ex := apiExample{Request: compactJSON(sc.Request), Expect: map[string]string{}}
		if sc.Start != nil {
			ex.Start = &exampleStart{Path: "/v1/faceid/" + sc.Start.Action, Request: compactJSON(sc.Start.Request),
				TokenField: "Response." + sc.Start.TokenField, Into: sc.Start.Into}
		}
		billed := "free"
		if sc.Charged {
			billed = "charged"
		}
		inner := o()
		var code string
		if sc.ReachedBy == sandbox.ReachedByFlow && sc.Start == nil && sc.ErrorCode != "" {
			// A token nobody handed out here (the documentation's
			// example): the pipeline's token-ownership check answers
			// before the sandbox would (it answers this row's code only
			// where the token could come from another instance: an event
			// platform without IDV_REDIS_URL).
			sc.Notes = strings.TrimSpace(fmt.Sprintf("A token this server did not hand out: 404 `ResourceNotFound.Token` from the token-ownership check. The sandbox itself answers `%s` (%s), which a function on an event platform without `IDV_REDIS_URL` shows. %s", firstNonEmpty(sc.ErrorCode, sc.Result), sc.Description, sc.Notes))
			sc.ErrorCode, sc.Description, sc.Charged = "ResourceNotFound.Token", "the token is unknown to this caller", false
		}
		if sc.ErrorCode != "" {
			code = sc.ErrorCode
			ex.Status = faceidStatus(code)
			inner.set("Error", o("Code", code, "Message", sc.Description))
			ex.Expect["Response.Error.Code"] = code
		} else {
			ex.Status = http.StatusOK
			code = sc.Result
			if sc.ResultField != "" {
				ex.Expect["Response."+sc.ResultField] = sc.Result
				setTyped(inner, sc.ResultField, sc.Result, types)
			}
			if sc.DescriptionField != "" {
				ex.Expect["Response."+sc.DescriptionField] = sc.Description
				setTyped(inner, sc.DescriptionField, sc.Description, types)
			}
			keys := make([]string, 0, len(sc.Expect))
			for k := range sc.Expect {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				ex.Expect["Response."+k] = sc.Expect[k]
				setTyped(inner, k, sc.Expect[k], types)
			}
		}
		inner.set("RequestId", "sandbox-00000000-0000-4000-8000-000000000001")
		ex.Response = o("Response", inner)
		label := code
		if label == "" {
			label = "ok"
		}
		ex.Name = fmt.Sprintf("%02d-%s", n, exampleKey(label))
		switch {
		case sc.ErrorCode != "":
			ex.Summary = fmt.Sprintf("%s: %s", code, sc.Description)
		case sc.ResultField != "" || sc.Result != "":
			ex.Summary = fmt.Sprintf("%s %s: %s (%s)", firstNonEmpty(sc.ResultField, "result"), sc.Result, sc.Description, billed)
		default:
			ex.Summary = sc.Description
		}
		var d []string
		if sc.Field != "" {
			d = append(d, fmt.Sprintf("`%s` = `%s` (%s).", sc.Field, sc.Value, sc.ReachedBy))
		} else {
			d = append(d, "Reached by "+sc.ReachedBy+".")
		}
		if sc.Start != nil {
			d = append(d, fmt.Sprintf("A flow: call %s first with the request in `x-idv-start`, and put its `%s` into `%s`.", sc.Start.Action, sc.Start.TokenField, sc.Start.Into))
		}
		if sc.Notes != "" {
			d = append(d, sc.Notes)
		}
		ex.Description = strings.Join(d, " ")
		out = append(out, ex)
	}
	return out, nil
}

// outsideEnum says whether req has a value outside a field's enum.
func outsideEnum(action string, req map[string]any) bool {
	for k, v := range req {
		vals, ok := requestEnums[action+"."+k]
		if !ok {
			continue
		}
		in := false
		for _, x := range vals {
			if x == v {
				in = true
			}
		}
		if !in {
			return true
		}
	}
	return false
}

// setTyped puts a top-level answer member into an example answer with the
// JSON type the model gives it; dotted paths (members of nested objects, or
// of JSON text) stay in x-idv-expect only.
func setTyped(inner *obj, field, value string, types map[string]string) {
	if strings.Contains(field, ".") {
		return
	}
	if value == "null" {
		inner.set(field, json.RawMessage("null"))
		return
	}
	switch strings.TrimSpace(types[field]) {
	case "number", "number | bigint":
		if _, err := strconv.ParseFloat(value, 64); err == nil {
			inner.set(field, json.RawMessage(value))
			return
		}
	case "boolean":
		if value == "true" || value == "false" {
			inner.set(field, json.RawMessage(value))
			return
		}
	}
	inner.set(field, value)
}

func compactJSON(b []byte) json.RawMessage {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return json.RawMessage(b)
	}
	return buf.Bytes()
}

// exampleKey keeps an example name to letters, digits, '.', '-' and '_'.
func exampleKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// tcapiOp documents the Tencent API form at POST /.
func tcapiOp(s *spec) apiOp {
	var names []any
	var reqs, resps []any
	for _, a := range s.Actions {
		names = append(names, a.Action)
		reqs = append(reqs, o("$ref", "#/components/schemas/"+a.Action+"Request"))
		resps = append(resps, o("$ref", "#/components/schemas/"+a.Action+"Response"))
	}
	hdr := func(name, desc string, schema *obj, required bool) *obj {
		return o("name", name, "in", "header", "required", required, "description", desc, "schema", schema)
	}
	return apiOp{
		Path: "/", Method: http.MethodPost, Tag: "Tencent API form", ID: "TencentAPI",
		Summary:     "Any FaceID action in the Tencent Cloud API 3.0 form (TC3-signed)",
		Description: tc3Note + "\n\nA one-action function also answers `POST /` with its request JSON and no `X-TC-Action` (its Function URL is the action), as `/v1/faceid/<Action>` answers. Caller failures here are HTTP 200 with `Response.Error`: `AuthFailure.InvalidAuthorization`, `AuthFailure.SecretIdNotFound`, `AuthFailure.SignatureFailure`, `AuthFailure.SignatureExpire`, `AuthFailure.UnauthorizedOperation`.",
		Security:    []any{o("tc3", []any{}), o()},
		Params: []any{
			hdr("X-TC-Action", "The FaceID action.", o("type", "string", "enum", names), true),
			hdr("X-TC-Version", "The FaceID API version.", o("type", "string", "const", s.Version), true),
			hdr("X-TC-Timestamp", "Unix seconds of the signature; within 5 minutes of the server's clock.", o("type", "integer"), true),
			hdr("X-TC-Region", "Accepted and ignored: the deployment's `TENCENTCLOUD_REGION` is used.", o("type", "string"), false),
			o("$ref", "#/components/parameters/IdempotencyKey"),
		},
		Request:     o("description", "The request of the action named by `X-TC-Action`. Content-Type must be `application/json`.", "anyOf", reqs),
		Success:     o("type", "object", "required", []any{"Response"}, "properties", o("Response", o("description", "The inner object of the action, or `{\"Error\":{...},\"RequestId\"}`: errors are HTTP 200 here, as Tencent answers.", "anyOf", append(resps, o("$ref", "#/components/schemas/FaceIDError/properties/Response"))))),
		SuccessText: "Exactly as Tencent answers: HTTP 200 for every answer, errors in `Response.Error`.",
	}
}
