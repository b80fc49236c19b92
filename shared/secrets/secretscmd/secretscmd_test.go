package secretscmd

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseEnvFile(t *testing.T) {
	got, err := ParseEnvFile([]byte("# c\n\nA=1\nexport B = two words \nC=\"quoted #x\"\nD='single'\nE=\nF=a=b\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "A=1|B=two words|C=quoted #x|D=single|E=|F=a=b"
	if strings.Join(got, "|") != want {
		t.Fatalf("got %q", strings.Join(got, "|"))
	}
	_, err = ParseEnvFile([]byte("A=1\nthis-line-is-a-s3cret\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("err = %v", err)
	}
}

func TestReadValue(t *testing.T) {
	c := &Command{Stdin: strings.NewReader("v\r\n"), Stderr: &bytes.Buffer{}}
	if v, err := c.readValue(false); err != nil || string(v) != "v" {
		t.Fatalf("%q %v", v, err)
	}
	c.Stdin = strings.NewReader("v\n")
	if v, _ := c.readValue(true); string(v) != "v\n" {
		t.Fatalf("keep-newline: %q", v)
	}
	c.Stdin = strings.NewReader(strings.Repeat("x", MaxPlaintext+1))
	if _, err := c.readValue(false); err == nil || !strings.Contains(err.Error(), "Secrets Manager") {
		t.Fatalf("too long: %v", err)
	}

	// On a terminal the value comes from ReadHidden, never from an echoing read.
	c = &Command{Stdin: strings.NewReader("echoed"), Stderr: &bytes.Buffer{}, StdinIsTerminal: true,
		ReadHidden: func() ([]byte, error) { return []byte("hidden\n"), nil }}
	if v, err := c.readValue(false); err != nil || string(v) != "hidden" {
		t.Fatalf("terminal: %q %v", v, err)
	}
	c.ReadHidden = nil
	if _, err := c.readValue(false); err == nil || !strings.Contains(err.Error(), "pipe") {
		t.Fatalf("terminal without no-echo: %v", err)
	}
}

func TestOperatorEnv(t *testing.T) {
	os := map[string]string{"TENCENTCLOUD_SECRET_ID": "AKIDop", "TENCENTCLOUD_SECRET_KEY": "opkey", "TENCENTCLOUD_REGION": "ap-shanghai"}
	file := map[string]string{"TENCENTCLOUD_REGION": "ap-guangzhou", "TENCENTCLOUD_SECRET_KEY": "tckms:AQID", "IDV_SECRETS_TENCENT_SECRET_ID": "fromfile"}
	get := operatorEnv(func(k string) string { return os[k] }, file)
	if get("IDV_SECRETS_TENCENT_SECRET_ID") != "AKIDop" || get("IDV_SECRETS_TENCENT_SECRET_KEY") != "opkey" {
		t.Fatal("tccli key not used as the operator's key")
	}
	if get("TENCENTCLOUD_REGION") != "ap-guangzhou" {
		t.Fatal("the env file's settings should win")
	}
	if get("TENCENTCLOUD_SECRET_KEY") != "opkey" {
		t.Fatal("credentials must come from the process, not the env file")
	}
	// Role credentials present: tccli's are not mixed in.
	os["TENCENTCLOUD_SECRETID"] = "AKIDrole"
	get = operatorEnv(func(k string) string { return os[k] }, nil)
	if get("IDV_SECRETS_TENCENT_SECRET_ID") != "" {
		t.Fatal("tccli key used although role credentials exist")
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"encrypt"}, {"encrypt", "--cloud", "tencent", "--key-id", "k"}, {"check", "extra"}} {
		var out, errb bytes.Buffer
		c := &Command{Stdin: strings.NewReader("v"), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
		if code := c.Run(context.Background(), args); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
		if out.Len() != 0 {
			t.Errorf("%v: wrote to stdout: %q", args, out.String())
		}
	}
}
