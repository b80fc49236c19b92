package main

import (
	"strings"
	"testing"
)

func TestUpperSnake(t *testing.T) {
	for in, want := range map[string]string{
		"KmsKeyArn": "KMS_KEY_ARN", "LogRetentionInDays": "LOG_RETENTION_IN_DAYS",
		"FaceAdvRateLimit": "FACE_ADV_RATE_LIMIT", "SecretsManagerSecretArn": "SECRETS_MANAGER_SECRET_ARN",
	} {
		if got := upperSnake(in); got != want {
			t.Errorf("upperSnake(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestCovers(t *testing.T) {
	sm := "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/*"
	for _, c := range []struct {
		scheme, grant, target string
		want                  bool
	}{
		{"awssm", sm, "idverify/faceid", true},
		{"awssm", sm, "other/faceid", false},
		{"awssm", sm, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/faceid-AbCdEf", true},
		{"awssm", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/faceid-??????", "idverify/faceid", true},
		{"awsssm", "idverify/*", "/idverify/callers", true},
		{"awsssm", "idverify/*", "/prod/callers", false},
		{"awsssm", "idverify/callers", "idverify/callers", true},
		{"awskms", "arn:aws:kms:eu-west-1:123456789012:key/x", "AQIC", true},
	} {
		if got := covers(c.scheme, c.grant, c.target); got != c.want {
			t.Errorf("covers(%s, %s, %s) = %v, want %v", c.scheme, c.grant, c.target, got, c.want)
		}
	}
}

// The rules name template parameters; the template must still have them.
func TestRulesNameTemplateParameters(t *testing.T) {
	p, err := loadPlan("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{pEnvironment, pMode, pCallers, pTencentID, pTencentKey, pSMArn, pSSMPath, pKMSKey}
	for _, pair := range pairs {
		names = append(names, pair[0], pair[1])
	}
	for n := range offWhenEmpty {
		names = append(names, n)
	}
	for _, n := range names {
		if p.param(n) == nil {
			t.Errorf("the preflight names parameter %s, which template.yaml does not have", n)
		}
	}
	// Secret parameters are set by <VAR>_REF, as serverless.yml names them.
	for _, v := range []string{"TENCENTCLOUD_SECRET_KEY_REF", "IDV_CALLERS_REF", "IDV_WEBANK_SECRET_REF", "BAIDU_API_KEY_REF"} {
		if pr := p.byVar(v); pr == nil || !pr.Secret {
			t.Errorf("%s sets no secret parameter", v)
		}
	}
	if pr := p.byVar("IDV_MODE"); pr == nil || pr.Name != pMode {
		t.Errorf("IDV_MODE does not set %s", pMode)
	}
}

func TestCheckMasksAndRefuses(t *testing.T) {
	p, err := loadPlan("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TENCENTCLOUD_SECRET_ID_REF":  "awssm:idverify/faceid#SecretId",
		"TENCENTCLOUD_SECRET_KEY_REF": "AKIDsecretvalue",
		"IDV_CALLERS_REF":             "awssm:idverify/callers",
		"SECRETS_MANAGER_SECRET_ARN":  "arn:aws:secretsmanager:eu-west-1:123456789012:secret:idverify/*",
	}
	res := check(p, func(v string) (string, string) {
		if val, ok := env[v]; ok {
			return val, "test"
		}
		return "", ""
	})
	if len(res.Problems) != 1 || !strings.HasPrefix(res.Problems[0], "TENCENTCLOUD_SECRET_KEY_REF holds a plain value") {
		t.Errorf("problems = %q", res.Problems)
	}
	for _, pr := range res.Problems {
		if strings.Contains(pr, "AKIDsecretvalue") {
			t.Errorf("a problem repeats the value: %s", pr)
		}
	}
	args := maskedArgs(p, samCommand(p, res, "idverify", "", false, nil))
	line := strings.Join(args, " ")
	if strings.Contains(line, "idverify/faceid") || !strings.Contains(line, `TencentSecretIdRef="awssm:****"`) {
		t.Errorf("masked command: %s", line)
	}
}
