package tencent

import (
	"context"
	"errors"
	"strings"
	"testing"

	sdkerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"

	"github.com/idverify/idverify/shared/errs"
)

// A deadline that fires while the SDK reads the body comes back as a
// ParseJsonError without a cause; it must still read as a timeout.
func TestMapErrorDeadlineDuringBodyRead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	sdk := sdkerr.NewTencentCloudSDKError("ClientError.ParseJsonError", `Fail to read http body, {"Name":"张三"`, "")
	e := mapError(ctx, sdk, 200, true)
	if e.Kind != errs.Unavailable || e.Code != CodeUpstreamTimeout || !errors.Is(e, context.DeadlineExceeded) {
		t.Fatalf("got %v (cause %v)", e, e.Err)
	}
	if got := e.Err.Error(); got == "" || strings.Contains(got, "张三") {
		t.Fatalf("cause %q", got)
	}
}

func TestMapErrorKeepsUpstreamFields(t *testing.T) {
	sdk := sdkerr.NewTencentCloudSDKError("FailedOperation.IdNameMisMatch", "姓名和身份证号不一致", "rid-1")
	e := mapError(context.Background(), sdk, 200, true)
	if e.Kind != errs.Provider || e.Code != "FailedOperation.IdNameMisMatch" || e.Message != "姓名和身份证号不一致" || e.RequestID != "rid-1" {
		t.Fatalf("got %+v", e)
	}
}
