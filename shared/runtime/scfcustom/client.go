package scfcustom

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/runtime/invocation"
)

// Header names of GET /runtime/invocation/next. Documented with this
// capitalisation (tencentcloud.com/document/product/583/38130); Tencent's own
// demos read them lowercased. http.Header.Get matches either.
const (
	headerRequestID   = "Request_Id"
	headerMemoryLimit = "Memory_Limit_In_Mb"
	headerTimeLimit   = "Time_Limit_In_Ms"
)

type client struct {
	base string
	http *http.Client
}

func newClient(base string) *client {
	// No client timeout: next long-polls until an event arrives. No proxy:
	// the runtime API is local to the instance.
	return &client{base: base, http: &http.Client{Transport: &http.Transport{Proxy: nil}}}
}

// event is one invocation as next delivered it.
type event struct {
	payload   []byte
	requestID string
	memoryMB  int
	timeLimit time.Duration // zero when the header was missing or invalid
	received  time.Time
}

// context derives the invocation's context: the deadline is the time limit
// counted from when the event was received, the closest this protocol gets
// to the platform's own deadline (no deadline header is documented).
func (inv *event) context(parent context.Context) (context.Context, context.CancelFunc) {
	ctx := invocationContext(parent, inv)
	if inv.timeLimit > 0 {
		return context.WithDeadline(ctx, inv.received.Add(inv.timeLimit))
	}
	return context.WithCancel(ctx)
}

func invocationContext(parent context.Context, inv *event) context.Context {
	return invocation.NewContext(parent, invocation.Info{
		Platform: "scf-custom", RequestID: inv.requestID, MemoryLimitMB: inv.memoryMB,
	})
}

func (c *client) ready(ctx context.Context) error {
	// The documented example posts a single space; the body is ignored.
	return c.post(ctx, "/runtime/init/ready", []byte(" "))
}

func (c *client) next(ctx context.Context) (*event, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/runtime/invocation/next", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	inv := &event{payload: body, requestID: resp.Header.Get(headerRequestID), received: time.Now()}
	if ms, err := strconv.ParseInt(strings.TrimSpace(resp.Header.Get(headerTimeLimit)), 10, 64); err == nil && ms > 0 {
		inv.timeLimit = time.Duration(ms) * time.Millisecond
	}
	if mb, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get(headerMemoryLimit))); err == nil {
		inv.memoryMB = mb
	}
	return inv, nil
}

func (c *client) post(ctx context.Context, path string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s: status %d", path, resp.StatusCode)
	}
	return nil
}
