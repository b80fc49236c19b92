package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambda/messages"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

type handler struct{}

func (handler) ServeRequest(ctx context.Context, r *gateway.Request) *gateway.Response {
	return &gateway.Response{Status: 200, Body: []byte(r.RequestID)}
}

func (handler) Invoke(ctx context.Context, p []byte) ([]byte, error) {
	if string(p) == `"fail"` {
		return nil, errs.E(errs.Throttled, "", "slow down")
	}
	return []byte(`{"id":"` + invocation.FromContext(ctx).RequestID + `"}`), nil
}

// TestErrorTypeThroughAWSLambdaGo drives the adapter through aws-lambda-go's
// own handler wrapper: the error it produces must be the value type that
// lambda/errors.go passes through unchanged, or Lambda's errorType would be
// a Go type name instead of the kind.
func TestErrorTypeThroughAWSLambdaGo(t *testing.T) {
	h := lambda.NewHandlerWithOptions(Handler(handler{}))
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-req-1"})

	_, err := h.Invoke(ctx, []byte(`"fail"`))
	var ive messages.InvokeResponse_Error
	if !errors.As(err, &ive) || ive.Type != "Throttled" || ive.Message != "RequestLimitExceeded: slow down" {
		t.Fatalf("error %T %#v", err, err)
	}

	out, err := h.Invoke(ctx, []byte(`{"IdCard":"1"}`))
	if err != nil || string(out) != `{"id":"aws-req-1"}` {
		t.Errorf("direct: %s %v", out, err)
	}

	// An ALB event has no request id of its own: the invocation's is used.
	out, err = h.Invoke(ctx, []byte(`{"httpMethod":"GET","path":"/","requestContext":{"elb":{}}}`))
	var resp struct{ Body, StatusDescription string }
	if err != nil || json.Unmarshal(out, &resp) != nil || resp.Body != "aws-req-1" || resp.StatusDescription != "200 OK" {
		t.Errorf("alb: %s %v", out, err)
	}
}
