package runtimes

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// TestInvokeCommand runs `<binary> invoke < events/x.json` for every sample
// and checks the printed platform response and the exit status.
func TestInvokeCommand(t *testing.T) {
	t.Parallel()
	bin := echoBin(t)
	run := func(stdin []byte) (string, int) {
		cmd := exec.Command(bin, "invoke")
		cmd.Env = baseEnv()
		cmd.Stdin = bytes.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return out.String(), code
	}
	for _, file := range eventFiles(t) {
		payload := readEvent(t, file)
		out, code := run(payload)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", file, code, out)
			continue
		}
		// No platform id: for shapes without their own, one is generated.
		checkAnswer(t, file, payload, []byte(out), "", "invoke")
	}
	out, code := run([]byte(`{"op":"error","kind":"ProviderError","code":"FailedOperation.IdNameMisMatch"}`))
	if code != 1 || strings.TrimSpace(out) != `{"errorType":"ProviderError","errorMessage":"FailedOperation.IdNameMisMatch: echofn failed as asked"}` {
		t.Errorf("failure: exit %d: %s", code, out)
	}
}
