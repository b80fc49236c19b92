package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/flows"
)

// TestReadmeNodeWebhookVerifier runs the README's Node.js verifier, as
// written there, on signatures flows.Sign made: a good one passes, a
// tampered body, another secret and an old timestamp do not.
func TestReadmeNodeWebhookVerifier(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed (.ci/run installs Debian's nodejs)")
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)and in Node\\.js[^\n]*\n\n```js\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README: no Node.js verifier under \"and in Node.js\"")
	}
	secret := "whsec-readme-0123456789abcdef"
	body := `{"id":"evt_1","type":"flow.succeeded","flow":{"state":"succeeded","result":{"Name":"张三"}}}`
	now := time.Now()
	good := flows.Sign([]byte(secret), now, []byte(body))
	old := flows.Sign([]byte(secret), now.Add(-10*time.Minute), []byte(body))
	other := flows.Sign([]byte("another-secret-0123456789"), now, []byte(body))
	script := string(m[1]) + `
const body = process.env.BODY, secret = process.env.SECRET;
console.log([
  verifyIdverify(secret, process.env.GOOD, body),
  verifyIdverify(secret, process.env.GOOD, body + " "),
  verifyIdverify(secret, process.env.OTHER, body),
  verifyIdverify(secret, process.env.OLD, body),
].join(" "));
`
	file := filepath.Join(t.TempDir(), "verify.js")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, file)
	cmd.Env = append(os.Environ(), "BODY="+body, "SECRET="+secret, "GOOD="+good, "OLD="+old, "OTHER="+other)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "true false false false" {
		t.Fatalf("node verifier said %q, want \"true false false false\"", got)
	}
}
