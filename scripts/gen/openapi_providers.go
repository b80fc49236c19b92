package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/idverify/idverify/shared/faceadv"
	"github.com/idverify/idverify/shared/faceprint"
	"github.com/idverify/idverify/shared/sandbox"
)

// raw is a JSON literal for an example.
func raw(s string) json.RawMessage { return json.RawMessage(s) }

// ---- faceAdv (seed 002) ----

var faceAdvCodes = []struct {
	code    int
	meaning string
}{
	{faceadv.CodeOK, "success; `data.status` is `SUCCESS`, `PROCESSING` (async job running) or `FAIL` (the verification did not pass: see `result.tencentCode`)"},
	{faceadv.CodeBadJSON, "the body is not a JSON object, or a member has the wrong JSON type"},
	{faceadv.CodeMissing, "a required field is missing (`errmsg` names it)"},
	{faceadv.CodeInvalid, "a field breaks its rule (`errmsg` names the field and the rule)"},
	{faceadv.CodePhoto, "`sourcePhotoStr` unusable: too large, URL refused (not http/https, or a non-public address) or not fetchable"},
	{faceadv.CodeUnauthorized, "`Authorization` missing or not a valid key"},
	{faceadv.CodeForbidden, "the key may not call this endpoint"},
	{faceadv.CodeNotFound, "unknown `traceNo` (or another caller's), or unknown route"},
	{faceadv.CodeThrottled, "rate limited; retry later"},
	{faceadv.CodeInternal, "internal error"},
	{faceadv.CodeProvider, "WeBank refused the call; `errmsg` carries its code and message"},
	{faceadv.CodeUnavailable, "WeBank or the job store could not be reached; a `faceAdv` is not retried automatically (it may have been billed)"},
}

func faceAdvCodeTable() string {
	var b strings.Builder
	b.WriteString("| errcode | meaning |\n|---|---|\n")
	for _, c := range faceAdvCodes {
		fmt.Fprintf(&b, "| %d | %s |\n", c.code, c.meaning)
	}
	return b.String()
}

func faceAdvSchemas(schemas *obj) {
	str := func(desc string) *obj { return o("type", "string", "description", desc) }
	common := func() *obj {
		return o(
			"async", o("type", "boolean", "description", "Answer at once with `data.status` `PROCESSING` and a `traceNo`; fetch the outcome with faceAdvResult `{\"traceNo\"}`."),
			"extData", o("description", "Free JSON (at most 4 KiB): additional information registered with the call, returned in `data.extData` (and kept with an async job); never logged."),
		)
	}
	adv := common()
	adv.set("userId", o("type", "string", "maxLength", 32, "pattern", "^[A-Za-z0-9_-]+$", "description", "The caller's user id: at most 32 letters, digits, `_` or `-`. In the sandbox a userId ending `lowsim`, `liveness` or `notfound` steers the orderNo made for it."))
	adv.set("type", o("type", "string", "enum", []any{faceadv.TypeMatch, faceadv.TypeAuthMatch}, "description", "`match`: liveness + comparison with the caller's `sourcePhotoStr`; `authmatch`: liveness + the authority photo of `name`/`idNo`."))
	adv.set("sourcePhotoStr", o("$ref", "#/components/schemas/FaceAdvSourcePhoto"))
	adv.set("name", str("The person's name; required with `authmatch`."))
	adv.set("idNo", str("The ID number (GB 11643, check digit verified); required with `authmatch`."))
	adv.set("orderNo", o("type", "string", "maxLength", 32, "pattern", "^[A-Za-z0-9]+$", "description", "Optional; generated otherwise. At most 32 letters or digits."))
	schemas.set("FaceAdvRequest", o("type", "object", "description", "The faceAdv request of seed 002.", "required", []any{"userId", "type"}, "properties", adv, "additionalProperties", false))
	schemas.set("FaceAdvSourcePhoto", o("type", "object", "required", []any{"data"}, "additionalProperties", false, "properties", o(
		"origin", o("type", "string", "enum", []any{faceadv.OriginSelf, faceadv.OriginURI, faceadv.OriginFDS}, "description", "`self`: base64 (at most 400 KB); `uri`: fetched over http/https (at most 300 KB in 10 s, never from a non-public address); `fds`: a path under `IDV_FACEADV_FDS_BASE_URL`."),
		"data", str("The photo (base64), its URL or its file-server path."),
	), "description", "The caller's photo to compare with (`type` `match`)."))
	res := common()
	res.set("orderNo", o("type", "string", "maxLength", 32, "description", "The orderNo faceAdv answered. In the sandbox its end chooses the outcome: `lowsim`, `liveness`, `notfound`, anything else passes."))
	res.set("getFile", o("anyOf", []any{o("type", "string"), o("type", "integer")}, "description", "1: video and photo, 2: photo, 3: video; any other value returns no file (seed 002: 其他则不返回)."))
	res.set("traceNo", str("The traceNo of an async job, to fetch its outcome."))
	schemas.set("FaceAdvResultRequest", o("type", "object", "description", "The faceAdvResult request of seed 002: an `orderNo`, or the `traceNo` of an async job.", "properties", res, "additionalProperties", false))
	schemas.set("FaceAdvEnvelope", o("type", "object", "description", "The seed-002 envelope, HTTP 200 whatever the errcode.\n\n"+faceAdvCodeTable(),
		"required", []any{"errcode", "errmsg"},
		"properties", o(
			"errcode", o("type", "integer", "enum", faceAdvCodeValues()),
			"data", o("type", "object", "properties", o(
				"status", o("type", "string", "enum", []any{faceadv.StatusSuccess, faceadv.StatusProcessing, faceadv.StatusFail}),
				"traceNo", str("This call's trace number (an async job's handle)."),
				"extData", o("description", "The request's `extData`, as sent; absent when none was."),
				"result", o("description", "faceAdv: what the client SDK needs (`bizSeqNo`, `orderNo`, `faceId`, `sign`, `nonce`, `appId`, `version`); faceAdvResult: the record (`tencentCode`, `tencentMsg`, `bizSeqNo`, `transactionTime`, `orderNo`, `occurredTime`, `liveRate`, `similarity`, `photo`, `video`, `sdkVersion`, `trtcFlag`, `appId`).", "type", "object"),
			)),
			"errmsg", o("type", "string"),
		)))
}

func faceAdvCodeValues() []any {
	var out []any
	for _, c := range faceAdvCodes {
		out = append(out, c.code)
	}
	return out
}

func faceAdvOps() []apiOp {
	desc := "The enhanced face pair of seed 002 with exactly that contract: requests, the `Authorization` header (`Bearer <key>` or the bare key) and the envelope `{\"errcode\", \"data\": {\"status\", \"traceNo\", \"result\"}, \"errmsg\"}`. Answers are HTTP 200; `errcode` says what happened (see FaceAdvEnvelope). WeBank's face server API answers live; the sandbox answers without credentials (`appId` `IDASANDBOX`)."
	envelope := o("$ref", "#/components/schemas/FaceAdvEnvelope")
	idem := []any{o("$ref", "#/components/parameters/IdempotencyKey")}
	adv := apiOp{
		Path: faceadv.PathAdv, Method: http.MethodPost, Tag: "faceAdv", ID: "faceAdv",
		Summary:     "faceAdv: upload the identity and get what the client SDK needs",
		Description: desc + "\n\n`type` `match` compares with the caller's `sourcePhotoStr`, `authmatch` with the authority photo of `name`/`idNo`. Answers `faceId`, `orderNo`, `appId`, `version`, and `sign`/`nonce` made with a fresh single-use NONCE ticket.",
		Params:      idem, Request: o("$ref", "#/components/schemas/FaceAdvRequest"),
		Success: envelope, SuccessText: "The seed-002 envelope (errors too).", Function: "face-adv",
	}
	adv.Examples = []apiExample{
		faceAdvExample("01-authmatch", "authmatch: the SDK launch parameters", "Any valid identity; the sandbox makes an orderNo.",
			`{"type":"authmatch","userId":"user1001","name":"张三","idNo":"110101199003074477"}`, nil,
			map[string]string{"errcode": "0", "data.status": faceadv.StatusSuccess, "data.result.appId": faceadv.SandboxAppID}),
		faceAdvExample("02-steer", "userId ending lowsim: an orderNo whose faceAdvResult fails", "The sandbox's orderNo ends like the userId (`lowsim`, `liveness`, `notfound`).",
			`{"type":"authmatch","userId":"user_lowsim","name":"张三","idNo":"110101199003074477"}`, nil,
			map[string]string{"errcode": "0", "data.status": faceadv.StatusSuccess}),
		faceAdvExample("03-invalid", "errcode 40003: a field breaks its rule", "`idNo` with a wrong check digit.",
			`{"type":"authmatch","userId":"user1001","name":"张三","idNo":"110101199003074478"}`, nil,
			map[string]string{"errcode": strconv.Itoa(faceadv.CodeInvalid)}),
	}
	res := apiOp{
		Path: faceadv.PathResult, Method: http.MethodPost, Tag: "faceAdv", ID: "faceAdvResult",
		Summary:     "faceAdvResult: the result of an orderNo, or of an async job",
		Description: desc + "\n\nThe result of an `orderNo` (`tencentCode`, `liveRate`, `similarity`, `photo`/`video` per `getFile` 1/2/3), or of an async job by `traceNo` (`PROCESSING` until it is done). An orderNo or traceNo answers only the caller whose faceAdv made it; the sandbox's `SBX...` orderNos belong to nobody.",
		Params:      idem, Request: o("$ref", "#/components/schemas/FaceAdvResultRequest"),
		Success: envelope, SuccessText: "The seed-002 envelope (errors too).", Function: "face-adv-result",
	}
	n := 0
	for _, sc := range faceadv.Scenarios() {
		if sc.Endpoint != "faceAdvResult" {
			continue
		}
		n++
		order := "SBXexample" + sc.EndsWith
		if sc.EndsWith == "" {
			order = "SBXexample0001"
		}
		expect := map[string]string{"errcode": "0", "data.status": sc.Status, "data.result.tencentCode": sc.TencentCode}
		res.Examples = append(res.Examples, faceAdvExample(fmt.Sprintf("%02d-%s", n, exampleKey(sc.Name)),
			fmt.Sprintf("%s: %s, tencentCode %s", sc.Name, sc.Status, sc.TencentCode), "`orderNo` ending `"+firstNonEmpty(sc.EndsWith, "anything else")+"`: "+sc.Description,
			fmt.Sprintf(`{"orderNo":%q}`, order), nil, expect))
	}
	n++
	res.Examples = append(res.Examples, faceAdvExample(fmt.Sprintf("%02d-flow", n), "after faceAdv: the orderNo it made", "A flow: faceAdv with a userId ending `liveness` first, then its `data.result.orderNo` here.",
		`{"orderNo":"<orderNo from faceAdv>","getFile":"1"}`,
		&exampleStart{Path: faceadv.PathAdv, Request: raw(`{"type":"authmatch","userId":"user_liveness","name":"张三","idNo":"110101199003074477"}`), TokenField: "data.result.orderNo", Into: "orderNo"},
		map[string]string{"errcode": "0", "data.status": faceadv.StatusFail}))
	return []apiOp{adv, res}
}

func faceAdvExample(name, summary, desc, req string, start *exampleStart, expect map[string]string) apiExample {
	resp := o("errcode", json.RawMessage(expect["errcode"]))
	if st, ok := expect["data.status"]; ok {
		data := o("status", st, "traceNo", "sandbox-trace-0001")
		result := o()
		for k, v := range expect {
			if f, ok := strings.CutPrefix(k, "data.result."); ok {
				result.set(f, v)
			}
		}
		if len(result.keys) > 0 {
			data.set("result", result)
		}
		resp.set("data", data)
	}
	resp.set("errmsg", "...")
	return apiExample{Name: name, Summary: summary, Description: desc, Request: raw(req), Start: start, Status: http.StatusOK, Response: resp, Expect: expect}
}

// ---- Baidu faceprint (seed 004) ----

func faceprintSchemas(schemas *obj) {
	token := o("type", "string", "description", "The verify_token verifyToken/generate answered (valid 2 hours for idcard/submit and uploadMatchImage, 3 days for the result queries). The sandbox's `"+faceprint.LapsedVerifyToken+"` is always expired.")
	ignored := o("description", "Ignored: never used to authenticate, never forwarded, never logged (the deployment holds Baidu's token).")
	schemas.set("FaceprintGenerateRequest", o("type", "object", "required", []any{"plan_id"}, "additionalProperties", false, "properties", o(
		"plan_id", o("anyOf", []any{o("type", "string"), o("type", "integer", "minimum", 0)}, "description", "The plan (方案) id. In the sandbox `fail-<code>` makes a flow that fails with that code, `error-<code>` a refusal."),
		"redirect_config", o("type", "object", "description", "`success_url`, `failed_url` (http/https, at most 1024 characters)..."),
		"match_source", o("description", "The APP plans' comparison source."),
		"access_token", ignored,
	)))
	schemas.set("FaceprintSubmitRequest", o("type", "object", "required", []any{"verify_token", "id_name", "id_no"}, "additionalProperties", false, "properties", o(
		"verify_token", token,
		"id_name", o("type", "string", "description", "The name to verify."),
		"id_no", o("type", "string", "description", "The number for its certificate_type (0 and 4 by GB 11643, 4 starting 81/82/83)."),
		"certificate_type", o("type", "integer", "minimum", 0, "maximum", 5, "description", "0 mainland ID card ... 5 non-Chinese HK/Macao permit."),
		"access_token", ignored,
	)))
	schemas.set("FaceprintUploadRequest", o("type", "object", "required", []any{"verify_token", "image"}, "additionalProperties", false, "properties", o(
		"verify_token", token,
		"image", o("type", "string", "contentEncoding", "base64", "maxLength", faceprint.MaxImageBase64, "description", "The face image, standard base64."),
		"quality_control", o("type", "string", "enum", controls()),
		"liveness_control", o("type", "string", "enum", controls()),
		"access_token", ignored,
	)))
	schemas.set("FaceprintTokenRequest", o("type", "object", "required", []any{"verify_token"}, "additionalProperties", false, "properties", o(
		"verify_token", token, "access_token", ignored,
	)))
	schemas.set("FaceprintAnswer", o("type", "object", "description", "Baidu's answer, HTTP 200 whatever the outcome. Success: `{\"success\":true,\"result\":...,\"log_id\"}`. Baidu's own errors pass through unchanged (flow control as `error_code`/`error_msg`, the solution's as `success`/`code`/`message`); errors made here carry both pairs. Caller auth failures answer 110 (no or bad credential) or 6 (endpoint not allowed); a bad input 216100 naming the field and the rule; a body that is not a JSON object 283513.",
		"properties", o(
			"success", o("type", "boolean"),
			"result", o("description", "The endpoint's result: `{verify_token}`, `1`, `null`, `{image}`, `{verify_result, idcard_confirm}`, the statistics, the media, every verification and its billing."),
			"log_id", o("type", "string", "description", "`sandbox-...` from the sandbox."),
			"code", o("type", "integer"), "message", o("type", "string"),
			"error_code", o("type", "integer"), "error_msg", o("type", "string"),
		)))
}

func controls() []any {
	var out []any
	for _, c := range faceprint.Controls {
		out = append(out, c)
	}
	return out
}

var faceprintRequestSchema = map[string]string{
	"verifyToken/generate": "FaceprintGenerateRequest",
	"idcard/submit":        "FaceprintSubmitRequest",
	"uploadMatchImage":     "FaceprintUploadRequest",
}

func faceprintOps() []apiOp {
	var ops []apiOp
	gen := func(plan string) *exampleStart {
		return &exampleStart{Path: faceprint.Prefix + "verifyToken/generate", Request: raw(fmt.Sprintf(`{"plan_id":%q}`, plan)), TokenField: "result.verify_token", Into: "verify_token"}
	}
	image := sandboxImage()
	for _, ep := range faceprint.Endpoints() {
		schema := faceprintRequestSchema[ep.Path]
		if schema == "" {
			schema = "FaceprintTokenRequest"
		}
		op := apiOp{
			Path: ep.Route(), Method: http.MethodPost, Tag: "Baidu faceprint", ID: "faceprint/" + ep.Path,
			Summary:     ep.Path + ": " + strings.TrimPrefix(ep.Description, "Baidu H5 face real-name: "),
			Description: ep.Description + ".\n\nServed at Baidu's own path and shapes, so a client written for Baidu switches by changing its base URL from `https://aip.baidubce.com` and sending the caller credential instead of a Baidu token. Input is checked before Baidu is called. None of the eight endpoints is billed per call (Baidu bills the checks the H5 page runs, reported by `result/getall`). Caller action: `" + ep.Action() + "`; function `functions/" + ep.Function + "`.",
			Params:      []any{o("$ref", "#/components/parameters/IdempotencyKey")},
			Request:     o("$ref", "#/components/schemas/"+schema),
			Success:     o("$ref", "#/components/schemas/FaceprintAnswer"),
			SuccessText: "Baidu's answer (errors too, as Baidu answers them).",
			Function:    ep.Function,
		}
		n := 0
		add := func(summary, desc, req string, start *exampleStart, expect map[string]string) {
			n++
			resp := o()
			for _, k := range []string{"success", "error_code", "code"} {
				if v, ok := expect[k]; ok {
					resp.set(k, json.RawMessage(v))
				}
			}
			if _, ok := expect["result.verify_token"]; ok || strings.HasPrefix(summary, "a verify_token") {
				resp.set("result", o("verify_token", "sb..."))
			}
			resp.set("log_id", "sandbox-0000000000000001")
			name := fmt.Sprintf("%02d-%s", n, exampleKey(firstNonEmpty(expect["code"], expect["error_code"], "ok")))
			op.Examples = append(op.Examples, apiExample{Name: name, Summary: summary, Description: desc, Request: raw(req), Start: start, Status: http.StatusOK, Response: resp, Expect: expect})
		}
		switch ep.Path {
		case "verifyToken/generate":
			for _, sc := range faceprint.Scenarios() {
				if sc.Endpoint != ep.Path {
					continue
				}
				req := fmt.Sprintf(`{"plan_id":%q}`, sc.Value)
				if sc.ErrorCode != 0 {
					key := "code"
					if sc.ErrorCode < 1000 {
						key = "error_code"
					}
					add(fmt.Sprintf("%d: %s", sc.ErrorCode, sc.Message), "`plan_id` `"+sc.Value+"`: this refusal instead of a token.", req, nil, map[string]string{key: strconv.Itoa(sc.ErrorCode)})
					continue
				}
				outcome := "passes"
				if sc.ResultCode != nil && *sc.ResultCode != 0 {
					outcome = fmt.Sprintf("fails with %d (%s)", *sc.ResultCode, sc.Message)
				}
				add("a verify_token whose flow "+outcome, "`plan_id` `"+sc.Value+"`: the emulated user finishes the H5 flow at once; "+sc.Message+".", req, nil, map[string]string{"success": "true"})
			}
		case "idcard/submit":
			add("submitted", "After verifyToken/generate: its `result.verify_token` here.", `{"verify_token":"<verify_token from verifyToken/generate>","id_name":"张三","id_no":"110101199003074477","certificate_type":0}`, gen("1"), map[string]string{"success": "true", "result": "1"})
			add("216100: the id_no's check digit does not match", "Checked before Baidu is called.", `{"verify_token":"<verify_token from verifyToken/generate>","id_name":"张三","id_no":"110101199003074478","certificate_type":0}`, gen("1"), map[string]string{"error_code": "216100"})
		case "uploadMatchImage":
			if image != "" {
				add("uploaded", "After verifyToken/generate: its `result.verify_token` here.", fmt.Sprintf(`{"verify_token":"<verify_token from verifyToken/generate>","image":%q,"quality_control":"NORMAL","liveness_control":"NONE"}`, image), gen("1"), map[string]string{"success": "true"})
			}
		default:
			add("a passed flow", "After verifyToken/generate with `plan_id` `1`: its `result.verify_token` here.", `{"verify_token":"<verify_token from verifyToken/generate>"}`, gen("1"), map[string]string{"success": "true"})
			if ep.Path == "result/detail" || ep.Path == "result/simple" {
				for _, f := range faceprint.Failures {
					add(fmt.Sprintf("%d: %s", f.Code, f.Message), fmt.Sprintf("After verifyToken/generate with `plan_id` `fail-%d`.", f.Code), `{"verify_token":"<verify_token from verifyToken/generate>"}`, gen(fmt.Sprintf("fail-%d", f.Code)), map[string]string{"success": "false", "code": strconv.Itoa(f.Code)})
				}
			}
		}
		for _, sc := range faceprint.Scenarios() {
			if sc.Endpoint != ep.Path || sc.Field != "verify_token" {
				continue
			}
			// The rest of a valid request, so only the token is at fault.
			rest := ""
			switch ep.Path {
			case "idcard/submit":
				rest = `,"id_name":"张三","id_no":"110101199003074477","certificate_type":0`
			case "uploadMatchImage":
				if image == "" {
					continue
				}
				rest = fmt.Sprintf(`,"image":%q`, image)
			}
			add(fmt.Sprintf("%d: %s", sc.ErrorCode, sc.Message), "`verify_token` `"+sc.Value+"`.", fmt.Sprintf(`{"verify_token":%q%s}`, sc.Value, rest), nil, map[string]string{"code": strconv.Itoa(sc.ErrorCode)})
		}
		ops = append(ops, op)
	}
	return ops
}

// sandboxImage is the FaceID sandbox's tiny JPEG, taken from its table.
func sandboxImage() string {
	for _, sc := range sandbox.Scenarios() {
		var req map[string]any
		if json.Unmarshal(sc.Request, &req) != nil {
			continue
		}
		if s, ok := req["ImageBase64"].(string); ok && strings.HasPrefix(s, "/9j/") {
			return s
		}
	}
	return ""
}

// ---- the service's own routes ----

func infoOps() []apiOp {
	public := []any{}
	doc := func(path, id, summary, desc string, security []any, schema any, ctype string) apiOp {
		op := apiOp{Path: path, Method: http.MethodGet, Tag: "Service", ID: id, Summary: summary, Description: desc, Security: security, SuccessText: summary}
		op.Success, op.SuccessType = schema, ctype
		return op
	}
	return []apiOp{
		doc("/healthz", "health", "Health: mode, provider and served actions", "`status`, `mode` (`sandbox`/`live`), `provider` and `actions`; `providers` lists each provider in `functions/all`. Served to anyone, like this document.", public, o("type", "object", "required", []any{"status", "mode"}, "properties", o("status", o("type", "string", "const", "ok"), "mode", o("type", "string", "enum", []any{"sandbox", "live"}))), ""),
		doc("/v1/sandbox/scenarios", "sandboxScenarios", "The sandbox's magic values: every documented result code and how to reach it", "In `functions/all` it also carries the faceAdv and faceprint tables. Once `IDV_CALLERS` is set it answers only a caller (any caller).", nil, o("type", "object"), ""),
		doc("/v1/sandbox/faceadv/scenarios", "faceAdvScenarios", "The faceAdv sandbox table", "The orderNo endings and what faceAdvResult answers for them.", nil, o("type", "object"), ""),
		doc("/v1/sandbox/faceprint/scenarios", "faceprintScenarios", "The faceprint sandbox table", "The plan_id and verify_token magic values.", nil, o("type", "object"), ""),
		doc("/openapi.json", "openapi", "This document", "Generated by `scripts/gen` from the registry; embedded in `functions/all` and served without a credential.", public, o("type", "object"), ""),
		doc("/docs", "docs", "A readable, searchable reference of every action", "Plain HTML from embedded files (`/docs/docs.js`, `/docs/docs.css`), with each example as a curl command. Served without a credential.", public, o("type", "string"), "text/html"),
	}
}
