// Package event recognises the HTTP-shaped events the platforms deliver to a
// function (AWS API Gateway REST v1 and HTTP API v2, ALB, Lambda Function URL,
// SCF Function URL and the legacy SCF API Gateway event), turns each into one
// gateway.Request, and maps a gateway.Response back into the shape the same
// platform expects. Anything else is a direct invocation and is left alone.
package event

// Kind is the shape of a platform event. It decides how the response is
// encoded, so it travels from FromEvent to ToResponse.
type Kind uint8

const (
	Direct            Kind = iota // not an HTTP event: the payload goes to Handler.Invoke
	APIGatewayV1                  // AWS API Gateway REST API, payload format 1.0
	APIGatewayV2                  // AWS API Gateway HTTP API, payload format 2.0
	ALB                           // AWS ALB target group, single-value headers
	ALBMultiValue                 // AWS ALB target group with multi-value headers enabled
	LambdaFunctionURL             // AWS Lambda Function URL
	SCFFunctionURL                // Tencent SCF Function URL (event function)
	SCFAPIGateway                 // Tencent SCF legacy API Gateway trigger
)

var kindNames = [...]string{
	Direct:            "direct",
	APIGatewayV1:      "aws-apigw-v1",
	APIGatewayV2:      "aws-apigw-v2",
	ALB:               "aws-alb",
	ALBMultiValue:     "aws-alb-multivalue",
	LambdaFunctionURL: "aws-function-url",
	SCFFunctionURL:    "scf-function-url",
	SCFAPIGateway:     "scf-apigw",
}

// String is a stable name, safe for logs and metrics.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Kinds lists every HTTP kind (Direct excluded), for tests and docs.
func Kinds() []Kind {
	return []Kind{APIGatewayV1, APIGatewayV2, ALB, ALBMultiValue, LambdaFunctionURL, SCFFunctionURL, SCFAPIGateway}
}
