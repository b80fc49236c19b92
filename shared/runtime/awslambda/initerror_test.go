package awslambda

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

// A configuration error reaches the invoker with its class and message, the
// same as the "initialisation failed" log line; an internal one hides its
// details.
func TestReportInitError(t *testing.T) {
	for _, c := range []struct {
		err              error
		wantType, wantIn string
		notIn            string
	}{
		{errs.Configf("IDV_LOG_LEVEL", "IDV_LOG_LEVEL is not a log level: use debug, info, warn, error"),
			"ConfigurationError", `"errorMessage":"InvalidConfiguration: IDV_LOG_LEVEL is not a log level: use debug, info, warn, error"`, ""},
		{errs.E(errs.Internal, "", "password=hunter2"), "Internal", `"errorMessage":"InternalError: internal error"`, "hunter2"},
	} {
		var gotType, gotBody, gotPath string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			gotPath, gotType = r.URL.Path, r.Header.Get("Lambda-Runtime-Function-Error-Type")
			b, _ := io.ReadAll(r.Body)
			gotBody = string(b)
			w.WriteHeader(http.StatusAccepted)
		}))
		err := ReportInitError(context.Background(), strings.TrimPrefix(srv.URL, "http://"), c.err)
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		if gotPath != "/2018-06-01/runtime/init/error" || gotType != c.wantType ||
			!strings.Contains(gotBody, `"errorType":"`+c.wantType+`"`) || !strings.Contains(gotBody, c.wantIn) ||
			(c.notIn != "" && strings.Contains(gotBody, c.notIn)) {
			t.Errorf("%v: posted %s %q %s", c.err, gotPath, gotType, gotBody)
		}
	}
}
