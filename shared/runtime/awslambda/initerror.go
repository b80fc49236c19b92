package awslambda

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/idverify/idverify/shared/runtime/dispatch"
)

// ReportInitError tells the Runtime API that initialisation failed
// (POST /2018-06-01/runtime/init/error), so Lambda reports the cause to the
// invoker instead of a bare "Runtime exited". api is AWS_LAMBDA_RUNTIME_API.
// The caller exits non-zero afterwards.
func ReportInitError(ctx context.Context, api string, err error) error {
	f := dispatch.FailureOf(err)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, rerr := http.NewRequestWithContext(ctx, http.MethodPost,
		"http://"+api+"/2018-06-01/runtime/init/error", bytes.NewReader(f.JSON()))
	if rerr != nil {
		return rerr
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", f.Type)
	resp, rerr := apiClient.Do(req)
	if rerr != nil {
		return rerr
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("runtime API answered init/error with %d", resp.StatusCode)
	}
	return nil
}

// apiClient never uses a proxy: the Runtime API is link-local, and a
// customer HTTP_PROXY must not capture it.
var apiClient = &http.Client{Transport: &http.Transport{Proxy: nil}}
