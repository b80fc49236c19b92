package faceprint_test

import (
	"fmt"
	"testing"

	"github.com/idverify/idverify/shared/faceprint"
)

// TestSandboxFlowIsStateful: seed 004's members are answered, idcard_confirm
// is what idcard/submit sent (masked), a flow without idcard/submit is an
// OCR flow, and once the flow is verified submit and uploadMatchImage are
// refused ("核验完毕后……无法再进行核验": Token无效或者已过期).
func TestSandboxFlowIsStateful(t *testing.T) {
	h := sandboxHandler(t, faceprint.NewSandbox(faceprint.SandboxOptions{}))
	gen := func() string {
		return post(t, h, "verifyToken/generate", `{"plan_id":"1"}`).result()["verify_token"].(string)
	}

	// Submitted identity.
	vt := gen()
	submit := map[string]any{"verify_token": vt, "id_name": "王小明", "id_no": "11010519491231002X", "certificate_type": 0}
	if r := post(t, h, "idcard/submit", submit); r.body["success"] != true {
		t.Fatalf("submit: %s", r.raw)
	}
	if r := post(t, h, "uploadMatchImage", map[string]any{"verify_token": vt, "image": "/9j/4AAQ"}); r.body["success"] != true {
		t.Fatalf("upload before the flow: %s", r.raw)
	}
	d := post(t, h, "result/detail", map[string]any{"verify_token": vt}).result()
	if c := d["idcard_confirm"].(map[string]any); c["name"] != "王**" || c["idcard_number"] != "110***********002X" {
		t.Errorf("detail idcard_confirm: %v", c)
	}
	if _, ocr := d["idcard_ocr_result"]; ocr {
		t.Errorf("a submitted identity is not an OCR flow: %v", d)
	}
	row := post(t, h, "result/getall", map[string]any{"verify_token": vt}).result()["verify_result"].([]any)[0].(map[string]any)
	if c := row["idcard_confirm"].(map[string]any); c["name"] != "王**" || c["idcard_type"] != "0" {
		t.Errorf("getall idcard_confirm: %v", c)
	}
	if row["is_ocr_charge"] != false || fmt.Sprint(row["ocr_count"]) != "0" {
		t.Errorf("getall OCR members: %v", row)
	}
	vd := row["verify_detail"].(map[string]any)
	for _, k := range []string{"risk_level", "risk_tag", "is_demote"} {
		if _, ok := vd[k]; !ok {
			t.Errorf("verify_detail lacks %s: %v", k, vd)
		}
	}
	// Verified: no more submit or upload.
	if r := post(t, h, "idcard/submit", submit); r.code() != faceprint.CodeVerifyTokenInvalid || r.message() != "Token无效或者已过期" {
		t.Errorf("submit after the flow: %s", r.raw)
	}
	if r := post(t, h, "uploadMatchImage", map[string]any{"verify_token": vt, "image": "/9j/4AAQ"}); r.code() != faceprint.CodeVerifyTokenInvalid {
		t.Errorf("upload after the flow: %s", r.raw)
	}

	// OCR flow: the user scanned the card.
	vt = gen()
	d = post(t, h, "result/detail", map[string]any{"verify_token": vt}).result()
	ocr, _ := d["idcard_ocr_result"].(map[string]any)
	img, _ := d["idcard_images"].(map[string]any)
	if ocr["id_card_number"] != "110***********4477" || img["front_base64"] == nil || d["verify_result"].(map[string]any)["is_demote"] != false {
		t.Errorf("OCR detail: %v", d)
	}
	ga := post(t, h, "result/getall", map[string]any{"verify_token": vt}).result()
	row = ga["verify_result"].([]any)[0].(map[string]any)
	c := row["idcard_confirm"].(map[string]any)
	if row["is_ocr_charge"] != true || fmt.Sprint(row["ocr_count"]) != "1" || fmt.Sprint(ga["ocr_charge_count"]) != "1" ||
		c["idcard_ocr_result"] == nil || c["idcard_images"] == nil {
		t.Errorf("OCR getall: %v", ga)
	}
}
