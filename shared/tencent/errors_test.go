package tencent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

// A deadline that fires while the answer is read comes back as a mere read
// error; it must still read as a timeout, and quote nothing of the body.
func TestMapErrorDeadlineDuringBodyRead(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	<-ctx.Done()
	e := mapError(ctx, &errBodyRead{errors.New("unexpected EOF")}, 200, true)
	if e.Kind != errs.Unavailable || e.Code != CodeUpstreamTimeout || !errors.Is(e, context.DeadlineExceeded) {
		t.Fatalf("got %v (cause %v)", e, e.Err)
	}
	if got := e.Err.Error(); got == "" || strings.Contains(got, "张三") {
		t.Fatalf("cause %q", got)
	}
}

func TestMapErrorKeepsUpstreamFields(t *testing.T) {
	up := &upstreamError{code: "FailedOperation.IdNameMisMatch", message: "姓名和身份证号不一致", requestID: "rid-1"}
	e := mapError(context.Background(), up, 200, true)
	if e.Kind != errs.Provider || e.Code != "FailedOperation.IdNameMisMatch" || e.Message != "姓名和身份证号不一致" || e.RequestID != "rid-1" {
		t.Fatalf("got %+v", e)
	}
}

// parseAnswer reads an answer as the SDK's Send did: FaceID's error
// whatever the status, then the status, then the Response object.
func TestParseAnswer(t *testing.T) {
	for _, c := range []struct {
		body   string
		status int
		want   error // nil: the Response object
		code   string
	}{
		{`{"Response":{"Result":"0","RequestId":"r"}}`, 200, nil, ""},
		{`{"Response":{"Error":{"Code":"InternalError","Message":"m"},"RequestId":"r"}}`, 500, &upstreamError{}, "InternalError"},
		{`{"Response":{"Error":{"Code":"","Message":"m"},"RequestId":"r"}}`, 200, nil, ""},
		{`{"code":4000,"codeDesc":"InvalidParameter","message":"m"}`, 200, &upstreamError{}, "InvalidParameter"},
		{`{"Response":{}}`, 500, errStatus, ""},
		{`{"Response":"x"}`, 200, errNoResponse, ""},
		{`{"NoResponse":{}}`, 200, errNoResponse, ""},
		{`{"Response":{"Error":"x"}}`, 200, errUnreadable, ""},
		{`{"Response":{"RequestId":1}}`, 200, errUnreadable, ""},
		{`<html>`, 502, errUnreadable, ""},
		{`{"Response":{"a":1}`, 200, errUnreadable, ""},
	} {
		got, err := parseAnswer([]byte(c.body), c.status)
		var ue *upstreamError
		switch want := c.want.(type) {
		case nil:
			if err != nil || !strings.Contains(c.body, string(got)) || got[0] != '{' {
				t.Errorf("%s: %s, %v", c.body, got, err)
			}
		case *upstreamError:
			if !errors.As(err, &ue) || ue.code != c.code {
				t.Errorf("%s: %v, want upstream %s", c.body, err, c.code)
			}
		default:
			if !errors.Is(err, want) {
				t.Errorf("%s: %v, want %v", c.body, err, want)
			}
		}
	}
}

// parseAnswer's one pass reads an answer as encoding/json does
// (parseLegacy decodes with it).
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []string{
		`{"Response":{"Result":"0","RequestId":"r"}}`,
		`{"Response":{"Error":{"Code":"InternalError","Message":"m"},"RequestId":"r"}}`,
		`{"response":{"error":{"code":"X"},"requestid":"r\u0041"}}`,
		`{"Response":{"Error":null,"RequestId":null}}`,
		`{"Response":"x"}`, `{"Response":{"RequestId":1}}`, `{"code":1,"codeDesc":"c"}`, `<html>`, `{"Response":{}} x`,
	} {
		f.Add(s, 200)
	}
	f.Fuzz(func(t *testing.T, body string, status int) {
		got, gerr := parseAnswer([]byte(body), status)
		want, werr := parseLegacy([]byte(body), status)
		if string(got) != string(want) || fmt.Sprintf("%#v", gerr) != fmt.Sprintf("%#v", werr) {
			t.Fatalf("%q: parseAnswer %s %#v, encoding/json %s %#v", body, got, gerr, want, werr)
		}
	})
}

// An answer is read into one buffer of its declared length.
func TestReadAnswerOneBuffer(t *testing.T) {
	body := strings.Repeat("x", 100_000)
	resp := &http.Response{Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Header: http.Header{}}
	got, err := readAnswer(resp)
	if err != nil || string(got) != body || cap(got) != len(body)+1 {
		t.Fatalf("%d bytes, cap %d, %v", len(got), cap(got), err)
	}
	resp = &http.Response{Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1, Header: http.Header{}}
	if got, err := readAnswer(resp); err != nil || string(got) != body {
		t.Fatalf("unknown length: %d bytes, %v", len(got), err)
	}
}
