package faceadv

import (
	"encoding/json"
	"strings"
)

// Envelope is the seed-002 answer: {"errcode","data":{...},"errmsg"}, in
// the seed's member order.
type Envelope struct {
	Errcode int    `json:"errcode"`
	Data    *Data  `json:"data,omitempty"`
	Errmsg  string `json:"errmsg"`
}

// Data is the envelope's data member.
type Data struct {
	// Status is SUCCESS (business success), PROCESSING (async job not
	// finished) or FAIL.
	Status  string `json:"status"`
	TraceNo string `json:"traceNo"`
	// Result is *AdvResult for faceAdv, *RecordResult for faceAdvResult.
	Result any `json:"result,omitempty"`
	// ExtData is the extData the call registered (seed 002's 附加参数登记),
	// returned as sent; absent when none was.
	ExtData json.RawMessage `json:"extData,omitempty"`
}

// Statuses.
const (
	StatusSuccess    = "SUCCESS"
	StatusProcessing = "PROCESSING"
	StatusFail       = "FAIL"
)

// AdvResult is faceAdv's result: what the client SDK needs to start the
// face session (faceId, orderNo, appId, and the launch sign made with a
// fresh NONCE ticket, with its nonce).
type AdvResult struct {
	BizSeqNo string `json:"bizSeqNo,omitempty"`
	OrderNo  string `json:"orderNo,omitempty"`
	FaceID   string `json:"faceId,omitempty"`
	Sign     string `json:"sign,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	AppID    string `json:"appId,omitempty"`
	// UserID and Version complete the SDK launch parameters; the seed
	// does not list them but the SDK needs the exact values signed.
	Version string `json:"version,omitempty"`
}

// RecordResult is faceAdvResult's result, every field of the seed, in the
// order of its example.
type RecordResult struct {
	TencentCode     string `json:"tencentCode,omitempty"`
	TencentMsg      string `json:"tencentMsg,omitempty"`
	BizSeqNo        string `json:"bizSeqNo,omitempty"`
	TransactionTime string `json:"transactionTime,omitempty"`
	OrderNo         string `json:"orderNo,omitempty"`
	OccurredTime    string `json:"occurredTime,omitempty"`
	LiveRate        string `json:"liveRate,omitempty"`
	Similarity      string `json:"similarity,omitempty"`
	Photo           string `json:"photo,omitempty"`
	Video           string `json:"video,omitempty"`
	SdkVersion      string `json:"sdkVersion,omitempty"`
	TrtcFlag        string `json:"trtcFlag,omitempty"`
	AppID           string `json:"appId,omitempty"`
}

// UnmarshalJSON decodes result into the type of its action: a result with
// faceId is an AdvResult, anything else a RecordResult.
func (d *Data) UnmarshalJSON(b []byte) error {
	var raw struct {
		Status  string          `json:"status"`
		TraceNo string          `json:"traceNo"`
		Result  json.RawMessage `json:"result"`
		ExtData json.RawMessage `json:"extData"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	d.Status, d.TraceNo, d.Result, d.ExtData = raw.Status, raw.TraceNo, nil, raw.ExtData
	if len(raw.Result) == 0 || string(raw.Result) == "null" {
		return nil
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw.Result, &probe); err != nil {
		return err
	}
	if _, ok := probe["faceId"]; ok {
		var r AdvResult
		if err := json.Unmarshal(raw.Result, &r); err != nil {
			return err
		}
		d.Result = &r
		return nil
	}
	if _, ok := probe["tencentCode"]; ok || len(probe) == 0 || !hasAdvOnly(probe) {
		var r RecordResult
		if err := json.Unmarshal(raw.Result, &r); err != nil {
			return err
		}
		d.Result = &r
		return nil
	}
	var r AdvResult
	if err := json.Unmarshal(raw.Result, &r); err != nil {
		return err
	}
	d.Result = &r
	return nil
}

func hasAdvOnly(m map[string]json.RawMessage) bool {
	for k := range m {
		if k == "sign" || k == "nonce" || strings.EqualFold(k, "version") {
			return true
		}
	}
	return false
}

func success(traceNo string, result any) *Envelope {
	return &Envelope{Errcode: CodeOK, Errmsg: StatusSuccess, Data: &Data{Status: StatusSuccess, TraceNo: traceNo, Result: result}}
}

func processing(traceNo string) *Envelope {
	return &Envelope{Errcode: CodeOK, Errmsg: StatusProcessing, Data: &Data{Status: StatusProcessing, TraceNo: traceNo}}
}
