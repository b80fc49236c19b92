package main

import "net/http"

// usageOp describes GET /v1/usage (shared/usage): the usage report of
// every caller, for callers granted the "usage" permission. Its answers
// depend on what was counted, so it carries no example; tests/usage_test.go
// drives it.
func usageOp() apiOp {
	date := func(name, desc string) any {
		return o("name", name, "in", "query", "required", false, "description", desc,
			"schema", o("type", "string", "pattern", "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
	}
	return apiOp{Path: "/v1/usage", Method: http.MethodGet, Tag: "Service", ID: "usage",
		Summary: "Usage report: charged and free answers per caller, action and day or month",
		Description: "For callers whose `actions` in `IDV_CALLERS` list `usage` (`\"*\"` does not include it). Counts every answer by " +
			"caller, action, day (China time), mode (live or sandbox) and result code, split into charged, free and uncertain, " +
			"with an estimated cost from `IDV_USAGE_PRICES`. `scripts/idvusage` prints the same report as a table, JSON or CSV. " +
			"See README \"Per-person limits, budgets and usage\".",
		Params: []any{
			date("from", "first day, China time (default: the first of this month)"),
			date("to", "last day, inclusive (default: today)"),
			o("name", "by", "in", "query", "required", false, "schema", o("type", "string", "enum", []any{"day", "month"})),
			o("name", "caller", "in", "query", "required", false, "description", "one caller's usage only", "schema", o("type", "string")),
			o("name", "action", "in", "query", "required", false, "description", "one action's usage only", "schema", o("type", "string")),
		},
		Success: usageReport(), SuccessText: "The report",
		Errors: []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden}, ErrorSchema: "ServiceError"}
}

// usageReport is usage.Report as JSON; its rows are usageSchemas' UsageRow.
func usageReport() any {
	row := o("$ref", "#/components/schemas/UsageRow")
	return o("type", "object", "required", []any{"from", "to", "by", "rows", "totals"}, "properties", o(
		"from", o("type", "string", "format", "date"), "to", o("type", "string", "format", "date"),
		"by", o("type", "string", "enum", []any{"day", "month"}),
		"currency", o("type", "string", "description", "the currency of IDV_USAGE_PRICES"),
		"rows", o("type", "array", "items", row),
		"totals", o("type", "array", "description", "one row per mode over the whole range", "items", row),
	))
}

// usageSchemas adds usage.Row.
func usageSchemas(s *obj) {
	count := func(desc string) any { return o("type", "integer", "minimum", 0, "description", desc) }
	s.set("UsageRow", o("type", "object", "required", []any{"period", "calls", "charged", "free", "uncertain", "estimatedCost"}, "properties", o(
		"period", o("type", "string", "description", "the day (YYYY-MM-DD) or month (YYYY-MM), China time; `total` in totals, whose caller and action are `*`"),
		"caller", o("type", "string"), "action", o("type", "string"),
		"mode", o("type", "string", "enum", []any{"live", "sandbox"}),
		"calls", count("answers counted"),
		"charged", count("answers the provider bills"),
		"free", count("answers the provider does not bill"),
		"uncertain", count("calls that failed after the provider may have processed them (a timeout, a reset, a malformed answer)"),
		"estimatedCost", o("type", "number", "description", "charged × the action's price in IDV_USAGE_PRICES (0 without one)"),
		"codes", o("type", "object", "description", "answers by result code", "additionalProperties", o("type", "integer")),
	)))
}
