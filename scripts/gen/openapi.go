package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/idverify/idverify/shared/errs"
)

// The OpenAPI 3.1 document and the /docs page are generated from the same
// facts as everything else here: the FaceID spec (actions, fields, types,
// required flags, size limits, result codes and their billing), the
// faceAdv and faceprint packages (their routes and sandbox tables) and the
// sandboxes' magic values (every example is a row of a sandbox table, and a
// test sends each one to the real local server). They are embedded by
// shared/apidoc and served by functions/all at GET /openapi.json and
// GET /docs.
const (
	openapiPath = "shared/apidoc/openapi.json"
	docsPath    = "shared/apidoc/docs.html"
)

// oaSpec is the part of the spec the document reads beyond spec: the
// descriptions, nullable flags and deprecation marks.
type oaSpec struct {
	Actions []struct {
		Action      string    `json:"action"`
		Description string    `json:"description"`
		Deprecated  bool      `json:"deprecated"`
		Deprecation string    `json:"deprecation"`
		Request     []oaField `json:"request"`
		Response    []oaField `json:"response"`
	} `json:"actions"`
	Structs map[string]struct {
		Description string    `json:"description"`
		Fields      []oaField `json:"fields"`
	} `json:"structs"`
	RequiredOverrides []requiredOverride `json:"required_overrides"`
}

type oaField struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Required    bool   `json:"required"`
	Nullable    bool   `json:"nullable"`
	Deprecated  bool   `json:"deprecated"`
}

func loadOASpec(path string) (*oaSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s oaSpec
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// The supplement (actions Tencent's node SDK no longer declares, in
	// the same shape) adds its actions and structs, as loadSpec merges it.
	sup := strings.TrimSuffix(path, ".json") + ".supplement.json"
	if b, err := os.ReadFile(sup); err == nil {
		var x oaSpec
		if err := json.Unmarshal(b, &x); err != nil {
			return nil, fmt.Errorf("%s: %w", sup, err)
		}
		s.Actions = append(s.Actions, x.Actions...)
		// The same overrides loadSpec applies (and checks).
		for _, o := range x.RequiredOverrides {
			for i := range s.Actions {
				if s.Actions[i].Action != o.Action {
					continue
				}
				for k := range s.Actions[i].Request {
					f := &s.Actions[i].Request[k]
					if slices.Contains(o.Fields, f.Name) {
						f.Required = true
						if o.Unless != "" {
							f.Description += " (Required unless " + o.Unless + " carries the request encrypted.)"
						}
					}
				}
			}
		}
		for n, st := range x.Structs {
			if s.Structs == nil {
				s.Structs = x.Structs
			}
			s.Structs[n] = st
		}
	}
	return &s, nil
}

// apiOp is one operation of the document, shared by the OpenAPI writer and
// the docs page.
type apiOp struct {
	Path, Method string
	Tag          string
	ID           string // operationId; the action name for FaceID
	Summary      string
	Description  string // markdown
	Deprecated   bool
	Security     []any // nil: the document's default
	Params       []any
	Request      any    // request body schema, nil for none
	Success      any    // schema of the 200 answer
	SuccessType  string // its media type; application/json when empty
	SuccessText  string
	Errors       []int // error statuses answered with the contract's error schema
	ErrorSchema  string
	Examples     []apiExample
	Extensions   *obj
	// For the docs page.
	Fields   []docField
	Results  []docResult
	Function string
}

type docField struct {
	Name, Type, Description string
	Required, Deprecated    bool
}

type docResult struct {
	Code, Description string
	Charged           bool
}

// apiExample is a request and the answer the sandbox documents for it.
type apiExample struct {
	Name        string
	Summary     string
	Description string
	Request     json.RawMessage
	// Start is the earlier call of a flow: its answer's token goes into
	// this request before it is sent.
	Start    *exampleStart
	Status   int
	Response any
	// Expect maps dotted paths of the answer (descending into members that
	// hold JSON text) to their values as the sandbox table writes them.
	Expect map[string]string
}

type exampleStart struct {
	Path       string          `json:"path"`
	Request    json.RawMessage `json:"request"`
	TokenField string          `json:"tokenField"` // dotted path in the earlier answer
	Into       string          `json:"into"`       // member of this request
}

// genOpenAPI returns the OpenAPI document and the docs page.
func genOpenAPI(root string, s *spec) (doc, page string, err error) {
	extra, err := loadOASpec(root + "/" + specPath)
	if err != nil {
		return "", "", err
	}
	ops, err := faceidOps(s, extra)
	if err != nil {
		return "", "", err
	}
	ops = append(ops, tcapiOp(s))
	ops = append(ops, faceAdvOps()...)
	ops = append(ops, faceprintOps()...)
	ops = append(ops, flowsOps()...)
	ops = append(ops, infoOps()...)
	ops = append(ops, usageOp())
	schemas := o()
	faceidSchemas(s, extra, schemas)
	faceAdvSchemas(schemas)
	faceprintSchemas(schemas)
	commonSchemas(schemas)
	flowsSchemas(schemas)
	usageSchemas(schemas)

	d := o(
		"openapi", "3.1.0",
		"info", o(
			"title", "idverify",
			"version", s.Version,
			"summary", "Tencent FaceID, WeBank faceAdv and Baidu faceprint behind one request pipeline.",
			"description", strings.Replace(infoDescription, "%s", errorClassRows(), 1),
			"license", o("name", "Proprietary", "identifier", "LicenseRef-idverify"),
			// Machine-readable: error class (a direct invocation's error
			// type) -> HTTP status on /v1/faceid (shared/errs).
			"x-idv-error-classes", errorClassStatuses(),
		),
		// Relative: the server that serves this document at /openapi.json
		// (the local server on http://localhost:8080, or a deployment).
		"servers", []any{o("url", "/", "description", "the server serving this document: `go run ./functions/all` listens on http://localhost:8080 (sandbox unless credentials are set), or a deployment's URL")},
		"tags", []any{
			o("name", "FaceID", "description", "Tencent FaceID 2018-03-01: one function per action, `POST /v1/faceid/<Action>` with the FaceID request JSON."),
			o("name", "Tencent API form", "description", "The Tencent Cloud API 3.0 wire form at `POST /`, signed TC3-HMAC-SHA256: any Tencent SDK or tccli works by changing its endpoint."),
			o("name", "faceAdv", "description", "The enhanced face pair of seed 002 on WeBank's face server API, with its own envelope `{errcode, data, errmsg}`: errors are HTTP 200."),
			o("name", "Baidu faceprint", "description", "Baidu's H5 face real-name solution at Baidu's own paths and shapes: errors are HTTP 200, as Baidu's are."),
			o("name", "Flows", "description", "The flows the function set owns end to end (README \"Flows\"): the return route a provider's page sends the browser to, the result route, and webhook deliveries."),
			o("name", "Service", "description", "Health, the sandbox tables and this description. Served without a caller credential except the sandbox tables once callers are configured."),
		},
		"security", []any{o("apiKey", []any{}), o("bareKey", []any{}), o()},
	)
	paths := o()
	for _, op := range ops {
		item, _ := paths.get(op.Path).(*obj)
		if item == nil {
			item = o()
			paths.set(op.Path, item)
		}
		item.set(strings.ToLower(op.Method), operationJSON(op))
	}
	d.set("paths", paths)
	d.set("components", o(
		"schemas", schemas,
		"parameters", o("IdempotencyKey", o(
			"name", "Idempotency-Key", "in", "header", "required", false,
			"description", "1-255 printable characters. A retry with the same key and body gets the first answer back byte for byte (marked `Idempotent-Replayed: true`) for 24 hours, without a second upstream call; the same key with another body is 409 `IdempotencyKeyReused`, a concurrent duplicate 409 `IdempotencyInProgress` with `Retry-After`. Sent at most once.",
			"schema", o("type", "string", "minLength", 1, "maxLength", 255, "pattern", "^[\\x21-\\x7e]+$"),
		)),
		"headers", commonHeaders(),
		"responses", errorResponses(),
		"securitySchemes", o(
			"apiKey", o("type", "http", "scheme", "bearer",
				"description", "A caller's API key, `Authorization: Bearer <key>` (create one with `go run ./scripts/idvcaller new-key`; only its SHA-256 is configured, in `IDV_CALLERS`). Without `IDV_CALLERS` only requests from this machine (loopback) are served, with no credential; a sandbox deployment may be opened with `IDV_SANDBOX_OPEN=true`."),
			"bareKey", o("type", "apiKey", "in", "header", "name", "Authorization",
				"description", "The same API key sent bare (`Authorization: <key>`), as the seed-002 faceAdv contract sends its token."),
			"tc3", o("type", "apiKey", "in", "header", "name", "Authorization",
				"description", tc3Note),
		),
	))
	docJSON, err := indentJSON(d)
	if err != nil {
		return "", "", err
	}
	return string(docJSON), docsPage(s, ops), nil
}

const infoDescription = `Identity verification as small Go serverless functions: every Tencent FaceID action on its own
route, the enhanced face pair faceAdv / faceAdvResult (seed 002, on WeBank's face server API) and Baidu's eight H5
face real-name endpoints, behind one request pipeline. Generated by ` + "`scripts/gen`" + ` from the action registry
(` + "`shared/faceid/spec`" + `) and the providers' contracts; served at ` + "`GET /openapi.json`" + ` and readable at ` + "`GET /docs`" + `.

**Sandbox.** Without provider credentials every provider is emulated deterministically, and every answer says so
(` + "`X-Idv-Mode: sandbox`" + `, a ` + "`RequestId`" + ` / ` + "`log_id`" + ` starting ` + "`sandbox-`" + `). Magic values reach every documented result code;
each example here is one of them, and a test sends every example to the real local server. The full tables:
` + "`GET /v1/sandbox/scenarios`" + `.

**Callers.** Once ` + "`IDV_CALLERS`" + ` is set every request authenticates with an API key (` + "`Authorization: Bearer <key>`" + `) or, on
the Tencent API form, a TC3 key pair issued for this deployment; without it only this machine is served.

**Errors.** FaceID routes answer ` + "`{\"Response\":{\"Error\":{\"Code\",\"Message\"},\"RequestId\"}}`" + ` with the HTTP status of the error
class (below); faceAdv and Baidu answer HTTP 200 with their own error members, as their providers do.

| class (workflow error type) | HTTP | retry? |
|---|---|---|
` + "%s" + `
Also: 405 for a method other than POST (with ` + "`Allow`" + `), 413 ` + "`RequestSizeLimitExceeded`" + ` for a body over the route's cap,
415 ` + "`UnsupportedMediaType`" + ` for a Content-Type that is not JSON (a body that is not JSON is 400), 501
` + "`ProviderNotConfigured`" + ` for a provider left out of a live ` + "`functions/all`" + `.

**Headers.** Every answer carries ` + "`X-Request-Id`" + `, ` + "`Cache-Control: no-store`" + ` and ` + "`X-Idv-Mode`" + `; a 429 and a 409
` + "`IdempotencyInProgress`" + ` carry ` + "`Retry-After`" + ` (seconds). Send ` + "`Idempotency-Key`" + ` to make a retry safe.`

const tc3Note = "The Tencent Cloud API 3.0 form (`POST /` with `X-TC-Action`, `X-TC-Version: 2018-03-01`, `X-TC-Timestamp`): `Authorization: TC3-HMAC-SHA256 Credential=<SecretId>/<date>/<service>/tc3_request, SignedHeaders=content-type;host, Signature=<hex>`, signed as Tencent signs (canonical request over the method, `/`, the signed `content-type` and `host` headers and the SHA-256 of the body; 5 minutes of clock skew). The key pair is one this deployment issued to the caller (`go run ./scripts/idvcaller new-keypair`), never the provider's key: tencentcloud-sdk-go, tencentcloud-sdk-nodejs and tccli work with the pair and this server's URL as endpoint. Errors on this form are HTTP 200 with `Response.Error`, as Tencent answers."

// errorClassRows is the error-class table of the description, from shared/errs.
func errorClassRows() string {
	retry := map[errs.Kind]string{
		errs.Throttled:   "yes, with backoff",
		errs.Unavailable: "only with an Idempotency-Key (a charged call may have gone through)",
		errs.Conflict:    "only `IdempotencyInProgress`",
	}
	var b strings.Builder
	for _, k := range errs.Kinds() {
		r := retry[k]
		if r == "" {
			r = "no"
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s |\n", k, k.HTTPStatus(), r)
	}
	return b.String()
}

// kindOfCode maps a FaceID error code to its class as the live provider
// and the sandbox do (shared/sandbox kindOf); the examples test checks the
// statuses it gives against the real server.
func kindOfCode(code string) errs.Kind {
	switch {
	case strings.HasPrefix(code, "InvalidParameter"), strings.HasPrefix(code, "MissingParameter"), strings.HasPrefix(code, "UnknownParameter"):
		return errs.Invalid
	case strings.HasPrefix(code, "UnauthorizedOperation"), strings.HasPrefix(code, "AuthFailure"):
		return errs.Forbidden
	case strings.HasPrefix(code, "RequestLimitExceeded"):
		return errs.Throttled
	case strings.HasPrefix(code, "InternalError"):
		return errs.Unavailable
	case strings.HasPrefix(code, "ResourceNotFound"):
		return errs.NotFound
	default:
		return errs.Provider
	}
}

func faceidStatus(code string) int {
	switch code {
	case "RequestSizeLimitExceeded":
		return http.StatusRequestEntityTooLarge
	case "UnsupportedMediaType":
		return http.StatusUnsupportedMediaType
	}
	return kindOfCode(code).HTTPStatus()
}

// operationJSON renders one operation.
func operationJSON(op apiOp) *obj {
	out := o(
		"tags", []any{op.Tag},
		"operationId", op.ID,
		"summary", op.Summary,
		"description", op.Description,
	)
	if op.Deprecated {
		out.set("deprecated", true)
	}
	if op.Security != nil {
		out.set("security", op.Security)
	}
	out.set("parameters", op.Params)
	byStatus := map[int][]apiExample{}
	for _, ex := range op.Examples {
		byStatus[ex.Status] = append(byStatus[ex.Status], ex)
	}
	if op.Request != nil {
		media := o("schema", op.Request)
		if exs := op.Examples; len(exs) > 0 {
			m := o()
			for _, ex := range exs {
				e := o("summary", ex.Summary, "description", ex.Description, "value", ex.Request)
				if ex.Start != nil {
					e.set("x-idv-start", ex.Start)
				}
				m.set(ex.Name, e)
			}
			media.set("examples", m)
		}
		out.set("requestBody", o("required", true, "content", o("application/json", media)))
	}
	resps := o()
	success := o("description", op.SuccessText, "headers", headerRefs())
	if op.Success != nil {
		success.set("content", o(firstNonEmpty(op.SuccessType, "application/json"), withExamples(o("schema", op.Success), byStatus[http.StatusOK])))
	}
	resps.set("200", success)
	for _, st := range op.Errors {
		key := strconv.Itoa(st)
		// Shared responses exist for the FaceID envelope only; another
		// contract's errors are described in place.
		if len(byStatus[st]) > 0 || op.ErrorSchema != "FaceIDError" {
			resps.set(key, o(
				"description", http.StatusText(st)+": see the error classes",
				"headers", headerRefs(),
				"content", o("application/json", withExamples(o("schema", o("$ref", "#/components/schemas/"+op.ErrorSchema)), byStatus[st])),
			))
			continue
		}
		resps.set(key, o("$ref", fmt.Sprintf("#/components/responses/%s%d", op.ErrorSchema, st)))
	}
	out.set("responses", resps)
	if op.Extensions != nil {
		for _, k := range op.Extensions.keys {
			out.set(k, op.Extensions.vals[k])
		}
	}
	return out
}

func withExamples(media *obj, exs []apiExample) *obj {
	if len(exs) == 0 {
		return media
	}
	m := o()
	for _, ex := range exs {
		resp, _ := marshalNoEscape(ex.Response) // one line: see indentJSON
		e := o("summary", ex.Summary, "value", json.RawMessage(resp))
		if len(ex.Expect) > 0 {
			e.set("x-idv-expect", sortedMap(ex.Expect))
		}
		m.set(ex.Name, e)
	}
	return media.set("examples", m)
}

func sortedMap(m map[string]string) *obj {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := o()
	for _, k := range keys {
		out.set(k, m[k])
	}
	return out
}

// commonHeaders are the headers answers carry (shared/gateway finish, the
// idempotency store, the FaceID precheck).
func commonHeaders() *obj {
	h := func(desc string, schema *obj) *obj { return o("description", desc, "schema", schema) }
	return o(
		"X-Request-Id", h("This request's id (the platform's, or a random UUID); in every log line of the request.", o("type", "string")),
		"X-Idv-Mode", h("`sandbox` when the emulator answered, `live` when the provider did: nobody may mistake an emulated answer for a real verification.", o("type", "string", "enum", []any{"sandbox", "live"})),
		"Cache-Control", h("Always `no-store`: answers hold personal data.", o("type", "string", "const", "no-store")),
		"Retry-After", h("Seconds to wait, on a 429 (or a Tencent-form `RequestLimitExceeded`) and a 409 `IdempotencyInProgress`.", o("type", "integer", "minimum", 1)),
		"Idempotent-Replayed", h("`true` when the answer is the stored answer of an earlier request with the same `Idempotency-Key`.", o("type", "string", "const", "true")),
		"X-Idv-Idempotency", h("`not-stored`: the provider answered but the answer could not be stored under the `Idempotency-Key`, so a retry cannot replay it.", o("type", "string", "const", "not-stored")),
		"X-Idv-Source", h("FaceID: `precheck` when the answer was made locally from a malformed value, before any paid call.", o("type", "string")),
		"X-Idv-Precheck", h("FaceID: with `X-Idv-Source: precheck`, the field and the rule it broke (never the value).", o("type", "string")),
	)
}

func headerRefs() *obj {
	out := o()
	for _, k := range commonHeaders().keys {
		out.set(k, o("$ref", "#/components/headers/"+k))
	}
	return out
}

// errorStatuses are the statuses a FaceID route answers with its error
// envelope.
var errorStatuses = []int{400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 501, 502}

var statusMeaning = map[int]string{
	400: "`InvalidInput`: the request is malformed (`InvalidParameter`, `InvalidParameterValue`, `MissingParameter`, `UnknownParameter`); the message names the field and the rule. A body that is not JSON is 400 too.",
	401: "`Unauthorized`: no or bad caller credential (`AuthFailure.InvalidAuthorization`, `AuthFailure.SecretIdNotFound`, `AuthFailure.SignatureFailure`, `AuthFailure.SignatureExpire`).",
	403: "`Forbidden`: the caller may not call this action (`AuthFailure.UnauthorizedOperation`), or Tencent refused the account (`UnauthorizedOperation.*`).",
	404: "`NotFound`: unknown action or route (`InvalidAction`), or a flow token this caller did not create (`ResourceNotFound.Token`).",
	405: "A method other than POST; `Allow: POST`.",
	409: "`Conflict`: `IdempotencyInProgress` (retry after `Retry-After`), `IdempotencyKeyReused` or `IdempotencyOutcomeUnknown` (use a new key after checking).",
	413: "`RequestSizeLimitExceeded`: the body is over the route's cap (64 KiB without media, the sum of the media limits with).",
	415: "`UnsupportedMediaType`: a Content-Type other than JSON (none and curl's form type are accepted).",
	422: "`ProviderError`: the provider answered a business error (`FailedOperation.*`).",
	429: "`Throttled`: `RequestLimitExceeded`, the caller's rate or the provider's QPS for the action; `Retry-After` says when.",
	500: "`Internal` (the message is only \"internal error\") or `ConfigurationError`.",
	501: "`ProviderNotConfigured`: the provider is left out of this live function (no credentials).",
	502: "`UpstreamUnavailable`: the provider could not be reached, timed out or answered 5xx (`InternalError.UpstreamTimeout`, `InternalError.UpstreamConnection`, `InternalError.UpstreamBadResponse`); the message says whether the call may have been billed.",
}

func errorResponses() *obj {
	out := o()
	for _, st := range errorStatuses {
		out.set(fmt.Sprintf("FaceIDError%d", st), o(
			"description", statusMeaning[st],
			"headers", headerRefs(),
			"content", o("application/json", o("schema", o("$ref", "#/components/schemas/FaceIDError"))),
		))
	}
	return out
}

func commonSchemas(schemas *obj) {
	schemas.set("FaceIDError", o(
		"type", "object",
		"description", "The FaceID error envelope, on `/v1/faceid` with the HTTP status of the error class, and on the Tencent API form with HTTP 200.",
		"required", []any{"Response"},
		"properties", o("Response", o(
			"type", "object",
			"required", []any{"Error", "RequestId"},
			"properties", o(
				"Error", o("type", "object", "required", []any{"Code", "Message"}, "properties", o(
					"Code", o("type", "string", "description", "Tencent-style code: `InvalidParameterValue`, `AuthFailure.SignatureFailure`, `FailedOperation.CompareLowSimilarity`..."),
					"Message", o("type", "string", "description", "Safe to show: names the field and the rule, never a value or a key. `internal error` for a bug."),
				)),
				"RequestId", o("type", "string", "description", "The provider's request id when it answered, else this request's `X-Request-Id`; `sandbox-...` from the sandbox."),
			),
		)),
		"examples", []any{json.RawMessage(`{"Response":{"Error":{"Code":"MissingParameter","Message":"missing required field IdCard"},"RequestId":"4a0f7c52-8f1e-4c2e-9d1b-0c55a1e3b7a2"}}`)},
	))
}

func errorClassStatuses() *obj {
	out := o()
	for _, k := range errs.Kinds() {
		out.set(k.String(), k.HTTPStatus())
	}
	return out
}

// firstSentence shortens a description to a summary.
func firstSentence(s string, max int) string {
	s = strings.TrimSpace(s)
	for _, sep := range []string{"。", ". ", "；"} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	r := []rune(s)
	if len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
