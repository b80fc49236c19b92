package event

import (
	"strings"
	"testing"
)

func TestDetect(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		want    Kind
	}{
		{"faceid request", `{"IdCard":"110101199003074477","Name":"张三"}`, Direct},
		{"not json", `IdCard=1`, Direct},
		{"array", `[{"httpMethod":"GET"}]`, Direct},
		{"string", `"hello"`, Direct},
		{"empty", ``, Direct},
		{"null", `null`, Direct},
		{"truncated object", `{"httpMethod":"GET","path":`, Direct},
		// encoding/json matches keys case-insensitively; Detect must not.
		{"capitalised keys are direct", `{"HttpMethod":"POST","Path":"/x","Headers":{},"QueryString":{"a":"b"}}`, Direct},
		{"method only", `{"httpMethod":"GET"}`, Direct},
		{"v1 minimal", `{"httpMethod":"GET","path":"/","resource":"/"}`, APIGatewayV1},
		{"v1 by apiId", `{"httpMethod":"GET","path":"/","requestContext":{"apiId":"x"}}`, APIGatewayV1},
		{"v2", `{"version":"2.0","routeKey":"GET /","rawPath":"/","requestContext":{"http":{"method":"GET"},"domainName":"x.execute-api.us-east-1.amazonaws.com"}}`, APIGatewayV2},
		{"function url by domain", `{"version":"2.0","routeKey":"$default","requestContext":{"http":{"method":"GET"},"domainName":"x.lambda-url.us-east-1.on.aws"}}`, LambdaFunctionURL},
		{"function url without routeKey", `{"version":"2.0","requestContext":{"http":{"method":"GET"}}}`, LambdaFunctionURL},
		{"v2 without http context", `{"version":"2.0","routeKey":"x","requestContext":{}}`, Direct},
		{"alb", `{"httpMethod":"GET","path":"/","requestContext":{"elb":{"targetGroupArn":"arn"}}}`, ALB},
		{"alb multi", `{"httpMethod":"GET","path":"/","multiValueHeaders":{"a":["b"]},"requestContext":{"elb":{}}}`, ALBMultiValue},
		{"alb multi null", `{"httpMethod":"GET","path":"/","multiValueHeaders":null,"requestContext":{"elb":{}}}`, ALB},
		{"scf url doc example", `{"body":"{}","headers":{"x-scf-remote-addr":"1.2.3.4"},"httpMethod":"POST","path":"/","queryString":{"a":"1"}}`, SCFFunctionURL},
		{"scf url without query", `{"headers":{},"httpMethod":"GET","path":"/"}`, SCFFunctionURL},
		{"scf apigw", `{"httpMethod":"GET","path":"/","queryString":{},"requestContext":{"serviceId":"service-1"}}`, SCFAPIGateway},
		{"scf apigw no queryString", `{"httpMethod":"GET","path":"/","requestContext":{"serviceId":"service-1"}}`, SCFAPIGateway},
		{"requestContext not object", `{"httpMethod":"GET","path":"/","headers":{},"requestContext":"x"}`, Direct},
	}
	for _, c := range cases {
		if got := Detect([]byte(c.payload)); got != c.want {
			t.Errorf("%s: Detect = %s, want %s", c.name, got, c.want)
		}
		if got := detectByMaps([]byte(c.payload)); got != c.want {
			t.Errorf("%s: the reference = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestKindString(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range append(Kinds(), Direct) {
		s := k.String()
		if s == "unknown" || seen[s] {
			t.Errorf("kind %d has name %q", k, s)
		}
		seen[s] = true
	}
	if Kind(200).String() != "unknown" {
		t.Error("out-of-range kind has a name")
	}
}

// BenchmarkDetect: a Function URL event carrying a 6 MB body (the size of
// a LivenessCompare video), against the reference that decodes every member.
// go test -run '^$' -bench Detect -benchmem ./shared/runtime/event
func BenchmarkDetect(b *testing.B) {
	payload := []byte(`{"version":"2.0","routeKey":"$default","rawPath":"/","headers":{"content-type":"application/json"},` +
		`"requestContext":{"http":{"method":"POST"},"domainName":"x.lambda-url.us-east-1.on.aws"},"isBase64Encoded":false,` +
		`"body":"` + strings.Repeat("A", 6<<20) + `"}`)
	for _, c := range []struct {
		name   string
		detect func([]byte) Kind
	}{{"members", Detect}, {"maps", detectByMaps}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			for b.Loop() {
				if c.detect(payload) != LambdaFunctionURL {
					b.Fatal("not detected")
				}
			}
		})
	}
}
