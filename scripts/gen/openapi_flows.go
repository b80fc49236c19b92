package main

import "net/http"

// flowsOps describes the flows routes (shared/flows): the return route a
// provider's page sends the browser to, the result route, and the webhook
// deliveries. Their examples would need a flow started first, so they carry
// none; tests/flows_test.go and tests/flows_browser_test.go drive them.
func flowsOps() []apiOp {
	idParam := func(name, desc, pattern string) any {
		return o("name", name, "in", "path", "required", true, "description", desc,
			"schema", o("type", "string", "pattern", pattern))
	}
	flowID := idParam("id", "The flow id (`X-Idv-Flow-Id` of the first call, `idv_flow` of the redirect).", "^flw_[0-9a-f]{32}$")
	flowSchema := o("type", "object", "required", []any{"flow"}, "properties", o("flow", o("type", "object",
		"required", []any{"id", "kind", "action", "caller", "state", "created", "expires"},
		"properties", o(
			"id", o("type", "string"), "kind", o("type", "string", "enum", []any{"detect", "eid", "sdk", "faceadv", "faceprint"}),
			"action", o("type", "string"), "caller", o("type", "string"), "sandbox", o("type", "boolean"),
			"token", o("type", "string", "description", "the provider's flow token, as the first answer gave it"),
			"state", o("type", "string", "enum", []any{"pending", "succeeded", "failed", "expired"}),
			"extData", o("description", "faceAdv's extData as sent"),
			"result", o("type", "object", "description", "the provider's last answer, as it came"),
			"resultAction", o("type", "string"),
			"created", o("type", "string", "format", "date-time"), "expires", o("type", "string", "format", "date-time"),
			"finished", o("type", "string", "format", "date-time"),
		))))
	delivery := o("type", "object", "properties", o(
		"eventId", o("type", "string"), "type", o("type", "string"), "flowId", o("type", "string"), "caller", o("type", "string"),
		"endpoint", o("type", "string"), "url", o("type", "string"),
		"state", o("type", "string", "enum", []any{"pending", "delivered", "failed"}),
		"attempts", o("type", "integer"), "lastStatus", o("type", "integer"), "lastError", o("type", "string"),
		"nextAttempt", o("type", "string", "format", "date-time"), "created", o("type", "string", "format", "date-time"),
		"delivered", o("type", "string", "format", "date-time"),
	))
	deliveries := o("type", "object", "properties", o("deliveries", o("type", "array", "items", delivery)))
	return []apiOp{
		{Path: "/v1/flows/{id}/return", Method: http.MethodGet, Tag: "Flows", ID: "flowReturn",
			Summary:     "Return route: where the provider's page sends the browser back",
			Description: "Public (the browser has no credential; the flow id is the capability). Pulls the result, sends the webhooks, and answers `303` to the caller's own `RedirectUrl` with `idv_flow=<id>` added (never a result or a token), or a small \"you can close this page\" page when the caller gave none. The first call of a flow gives the provider this route in place of the caller's `RedirectUrl`.",
			Security:    []any{}, Params: []any{flowID, o("name", "token", "in", "query", "required", false, "description", "the provider's token, as it appends it; must be the flow's", "schema", o("type", "string"))},
			Success: o("type", "string"), SuccessType: "text/html", SuccessText: "The flow has no caller URL to go on to",
			Errors: []int{http.StatusBadRequest, http.StatusNotFound}, ErrorSchema: "ServiceError"},
		{Path: "/v1/flows/{id}", Method: http.MethodGet, Tag: "Flows", ID: "flowGet",
			Summary:     "A flow and its result",
			Description: "Answers only the caller that started the flow (a direct invocation `{\"Action\":\"flows/get\",\"FlowId\"|\"Token\"}` sees every flow). A pending flow is pulled again (at most every 2 s).",
			Params:      []any{flowID}, Success: flowSchema, SuccessText: "The flow",
			Errors: []int{http.StatusUnauthorized, http.StatusNotFound}, ErrorSchema: "ServiceError"},
		{Path: "/v1/flows/webhooks", Method: http.MethodGet, Tag: "Flows", ID: "webhookDeliveries",
			Summary:     "The caller's webhook deliveries, newest first",
			Description: "At most 100. `state=failed` lists the deliveries that gave up after `IDV_WEBHOOK_MAX_ATTEMPTS`.",
			Params:      []any{o("name", "state", "in", "query", "required", false, "schema", o("type", "string", "enum", []any{"pending", "delivered", "failed"}))},
			Success:     deliveries, SuccessText: "Deliveries",
			Errors: []int{http.StatusBadRequest, http.StatusUnauthorized}, ErrorSchema: "ServiceError"},
		{Path: "/v1/flows/webhooks/{eventId}/redeliver", Method: http.MethodPost, Tag: "Flows", ID: "webhookRedeliver",
			Summary:     "Send an event again to the caller's endpoints that did not take it",
			Description: "Same event id, same body; attempted at once, then retried as usual.",
			Params:      []any{idParam("eventId", "The event id (`Idverify-Event-Id`).", "^evt_[0-9a-f]{32}$")},
			Success:     deliveries, SuccessText: "The event's deliveries as they stand",
			Errors: []int{http.StatusUnauthorized, http.StatusNotFound}, ErrorSchema: "ServiceError"},
	}
}

func flowsSchemas(s *obj) {
	// The error envelope of the routes that are not a provider's (flows, usage).

	s.set("ServiceError", o("type", "object", "required", []any{"error", "requestId"}, "properties", o(
		"error", o("type", "object", "required", []any{"code", "message"}, "properties", o("code", o("type", "string"), "message", o("type", "string"))),
		"requestId", o("type", "string"),
	)))
}
