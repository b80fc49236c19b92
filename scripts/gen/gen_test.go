package main

import (
	"testing"
)

// TestGeneratedFilesAreCurrent fails when someone edits the spec (or the
// generator) without running scripts/generate.sh, or edits a generated file.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate(root)
	if err != nil {
		t.Fatal(err)
	}
	stale, orphans, err := diff(root, files)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		t.Errorf("stale generated file %s: run scripts/generate.sh", p)
	}
	for _, p := range orphans {
		t.Errorf("%s is no longer generated: run scripts/generate.sh", p)
	}
}

func TestKebab(t *testing.T) {
	cases := map[string]string{
		"IdCardVerification":     "id-card-verification",
		"GetNFCToken":            "get-nfc-token",
		"BankCard2EVerification": "bank-card-2e-verification",
		"BankCard4EVerification": "bank-card-4e-verification",
		"PhoneVerificationCMCC":  "phone-verification-cmcc",
		"ImageRecognitionV2":     "image-recognition-v2",
		"DetectAIFakeFaces":      "detect-ai-fake-faces",
		"GetWxNFCResult":         "get-wx-nfc-result",
		"GetFaceidRiskInfoToken": "get-faceid-risk-info-token",
	}
	for in, want := range cases {
		if got := kebab(in); got != want {
			t.Errorf("kebab(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMediaLimit(t *testing.T) {
	cases := []struct {
		l    sizeLimit
		want int
	}{
		{sizeLimit{"ImageBase64", "支持的图片大小：所下载图片经Base64编码后不超过 7M。"}, 7 << 20},
		{sizeLimit{"ImageBase64", "Base64后图片最大8MB。"}, 8 << 20},
		{sizeLimit{"FaceInput", "建议不超过3M、最大不可超过10M"}, 10 << 20},
		{sizeLimit{"ImageUrl", "不超过3M"}, 0},
	}
	for _, c := range cases {
		got, _ := mediaLimit(c.l)
		if got != c.want {
			t.Errorf("mediaLimit(%s) = %d, want %d", c.l.Field, got, c.want)
		}
	}
}
