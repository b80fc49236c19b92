package gateway_test

// Black-box tests of the helpers the package exports to handlers and
// adapters outside the pipeline.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
)

type counting struct {
	r io.Reader
	n int
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestReadBody(t *testing.T) {
	// Within the limit: read whole, the reader consumed.
	r := &gateway.Request{BodyReader: strings.NewReader(`{"a":1}`), ContentLength: -1}
	if err := gateway.ReadBody(r, 16); err != nil || string(r.Body) != `{"a":1}` || r.BodyReader != nil {
		t.Fatalf("%v %q %v", err, r.Body, r.BodyReader)
	}
	// Over the limit: at most limit+1 bytes read.
	c := &counting{r: strings.NewReader(strings.Repeat("x", 1000))}
	r = &gateway.Request{BodyReader: c, ContentLength: -1}
	err := gateway.ReadBody(r, 16)
	if e := errs.As(err); e == nil || e.Code != gateway.RequestSizeLimitExceeded || e.Kind != errs.Invalid || c.n > 17 {
		t.Fatalf("%v read %d", err, c.n)
	}
	// Declared over the limit: nothing read.
	c = &counting{r: strings.NewReader(strings.Repeat("x", 1000))}
	r = &gateway.Request{BodyReader: c, ContentLength: 1000}
	if err := gateway.ReadBody(r, 16); errs.As(err).Code != gateway.RequestSizeLimitExceeded || c.n != 0 {
		t.Fatalf("%v read %d", err, c.n)
	}
	// An in-memory body is checked too.
	r = &gateway.Request{Body: []byte(strings.Repeat("x", 17))}
	if err := gateway.ReadBody(r, 16); errs.As(err).Code != gateway.RequestSizeLimitExceeded {
		t.Fatal(err)
	}
	// An empty body is nil; a zero limit is the default cap.
	r = &gateway.Request{BodyReader: strings.NewReader(""), ContentLength: 0}
	if err := gateway.ReadBody(r, 0); err != nil || r.Body != nil {
		t.Fatalf("%v %q", err, r.Body)
	}
	r = &gateway.Request{Body: make([]byte, gateway.DefaultMaxBody+1)}
	if err := gateway.ReadBody(r, 0); err == nil {
		t.Fatal("default cap not applied")
	}
	// A failing reader is the caller's problem, not an internal one.
	r = &gateway.Request{BodyReader: io.MultiReader(strings.NewReader("ab"), errReader{}), ContentLength: -1}
	if e := errs.As(gateway.ReadBody(r, 16)); e == nil || e.Kind != errs.Invalid {
		t.Fatalf("%v", e)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("reset") }

func TestRequestIDAndHeaderSafe(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := gateway.NewRequestID()
		if !re.MatchString(id) || seen[id] {
			t.Fatalf("request id %q", id)
		}
		seen[id] = true
	}
	if got := gateway.HeaderSafe("a\r\nb\x00é~"); got != "a??b??~" {
		t.Errorf("HeaderSafe %q", got)
	}
}

func TestAfterAndPolicies(t *testing.T) {
	var ra gateway.RetryAfterError = gateway.After(3 * time.Second)
	if ra.RetryAfter() != 3*time.Second || ra.Error() != "retry after 3s" {
		t.Errorf("%v %q", ra.RetryAfter(), ra.Error())
	}
	ctx := context.Background()
	for ip, ok := range map[string]bool{"127.0.0.1": true, "::1": true, "::ffff:127.0.0.1": true, "10.0.0.1": false, "": false, "localhost": false} {
		c, err := gateway.LoopbackOnly{}.Authenticate(ctx, &gateway.Request{SourceIP: ip, Header: http.Header{}}, "X")
		if (err == nil) != ok || (ok && c.ID != "loopback") || (!ok && errs.KindOf(err) != errs.Unauthorized) {
			t.Errorf("%q: %v %v", ip, c, err)
		}
		if err2 := (gateway.LoopbackOnly{}).CheckHeaders(ctx, &gateway.Request{SourceIP: ip}, "X"); (err2 == nil) != ok {
			t.Errorf("CheckHeaders %q: %v", ip, err2)
		}
	}
	if c, err := (gateway.SandboxOpen{}).Authenticate(ctx, &gateway.Request{}, ""); err != nil || !c.Test {
		t.Errorf("SandboxOpen: %v %v", c, err)
	}
}
