// Command hellotc3 is the peer of functions/id-card-verification in
// scripts/bench: the minimal Go program doing the same work on AWS Lambda.
// aws-lambda-go hands it an API Gateway HTTP API (payload 2.0) event, and it
// makes one tencentcloud-sdk-go CommonClient IdCardVerification call with the
// event's body, answering FaceID's response as the HTTP body. No caller
// auth, no validation, no logs: the floor the project is measured against.
//
// FACEID_ENDPOINT (a URL) points it at another FaceID, such as the fake.
package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

func main() {
	cp := profile.NewClientProfile()
	if u, err := url.Parse(os.Getenv("FACEID_ENDPOINT")); err == nil && u.Host != "" {
		cp.HttpProfile.Endpoint, cp.HttpProfile.Scheme = u.Host, strings.ToUpper(u.Scheme)
	}
	cred := common.NewCredential(os.Getenv("TENCENTCLOUD_SECRET_ID"), os.Getenv("TENCENTCLOUD_SECRET_KEY"))
	client := common.NewCommonClient(cred, "ap-guangzhou", cp)

	lambda.Start(func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		var params map[string]any
		if err := json.Unmarshal([]byte(ev.Body), &params); err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 400, Body: err.Error()}, nil
		}
		req := tchttp.NewCommonRequest("faceid", "2018-03-01", "IdCardVerification")
		req.SetContext(ctx)
		if err := req.SetActionParameters(params); err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 400, Body: err.Error()}, nil
		}
		resp := tchttp.NewCommonResponse()
		if err := client.Send(req, resp); err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: 502, Body: err.Error()}, nil
		}
		return events.APIGatewayV2HTTPResponse{
			StatusCode: 200,
			Headers:    map[string]string{"Content-Type": "application/json"},
			Body:       string(resp.GetBody()),
		}, nil
	})
}
