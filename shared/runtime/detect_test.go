package runtime

import "testing"

func TestDetect(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want Mode
		err  bool
	}{
		{nil, ModeLocal, false},
		{map[string]string{"PORT": "9999"}, ModeLocal, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}, ModeLambda, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "_LAMBDA_SERVER_PORT": "1"}, ModeLambda, false},
		{map[string]string{"AWS_LAMBDA_RUNTIME_API": "x", "SCF_RUNTIME_API": "y", "SCF_RUNTIME_API_PORT": "1"}, ModeLambda, false},
		{map[string]string{"SCF_RUNTIME_API": "127.0.0.1", "SCF_RUNTIME_API_PORT": "9001", "TENCENTCLOUD_RUNENV": "SCF"}, ModeSCFCustom, false},
		{map[string]string{"SCF_RUNTIME_API": "127.0.0.1"}, "", true},
		{map[string]string{"SCF_RUNTIME_API_PORT": "9001", "_LAMBDA_SERVER_PORT": "1"}, "", true},
		{map[string]string{"_LAMBDA_SERVER_PORT": "28902", "TENCENTCLOUD_RUNENV": "SCF"}, ModeSCFGo1, false},
		{map[string]string{"TENCENTCLOUD_RUNENV": "SCF"}, ModeSCFWeb, false},
		{map[string]string{"TENCENTCLOUD_RUNENV": "other"}, ModeLocal, false},
		{map[string]string{"IDV_RUNTIME": "scf-web", "AWS_LAMBDA_RUNTIME_API": "x"}, ModeSCFWeb, false},
		{map[string]string{"IDV_RUNTIME": " local ", "_LAMBDA_SERVER_PORT": "1"}, ModeLocal, false},
		{map[string]string{"IDV_RUNTIME": "lambda"}, ModeLambda, false},
		{map[string]string{"IDV_RUNTIME": "scf-custom"}, ModeSCFCustom, false},
		{map[string]string{"IDV_RUNTIME": "scf-go1"}, ModeSCFGo1, false},
		{map[string]string{"IDV_RUNTIME": "LAMBDA"}, "", true},
	}
	for _, c := range cases {
		got, err := Detect(func(k string) string { return c.env[k] })
		if (err != nil) != c.err || got != c.want {
			t.Errorf("env %v: Detect = %q, %v; want %q (error %v)", c.env, got, err, c.want, c.err)
		}
	}
}
