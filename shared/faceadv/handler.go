// Package faceadv serves the enhanced face pair of seed 002 exactly as
// existing callers use it: POST /tech/ai/face/faceAdv (upload the identity,
// get what the client SDK needs) and POST /tech/ai/face/faceAdvResult (the
// verification result), with the Authorization header and the envelope
// {"errcode","data":{"status","traceNo","result"},"errmsg"}. WeBank's face
// server API (shared/webank) answers live; a deterministic sandbox
// (sandbox.go) answers without credentials and for test callers.
//
// Async mode ("async": true) answers PROCESSING with a traceNo at once; the
// job lives in Redis (jobs.go) and its result is fetched with
// faceAdvResult {"traceNo": "..."} or delivered to the operator's callback
// URL (callback.go).
package faceadv

import (
	"context"
	"encoding/json"
	"github.com/idverify/idverify/shared/seal"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/resp"
	"github.com/idverify/idverify/shared/webank"
)

// Endpoint names and their routes.
const (
	ActionAdv    = "faceAdv"
	ActionResult = "faceAdvResult"
	PathAdv      = "/tech/ai/face/faceAdv"
	PathResult   = "/tech/ai/face/faceAdvResult"
)

var routes = map[string]string{PathAdv: ActionAdv, PathResult: ActionResult}

// Options configure a Handler.
type Options struct {
	// Live is the WeBank client; nil means every call is served by the
	// sandbox (sandbox mode).
	Live *webank.Client
	// Auth authenticates HTTP callers; nil means gateway.LoopbackOnly.
	Auth gateway.Authenticator
	// Endpoints served ("faceAdv", "faceAdvResult"); empty means both.
	Endpoints []string
	// Redis stores async jobs; nil keeps them in this instance's memory.
	Redis *resp.Client
	// StoreKeys seal jobs in Redis (they hold the name, ID number and
	// photo); nil keeps them in the clear.
	StoreKeys *seal.Keys
	// RequireStoreForAsync refuses async requests without Redis (on
	// event-driven platforms an instance may be frozen or recycled right
	// after answering, so memory cannot hold a job).
	RequireStoreForAsync bool
	// FDSBaseURL is the file server of origin fds; empty disables fds.
	FDSBaseURL string
	// CallbackURL and CallbackSecret enable signed result callbacks.
	CallbackURL, CallbackSecret string
	// Background starts an async job; nil runs it in a goroutine of this
	// instance. A Lambda/SCF deployment can instead invoke itself
	// asynchronously with {"Action":"faceAdv","resumeJob":traceNo}.
	Background func(traceNo string)
	// Lease bounds one run of a job; a job whose runner died is resumed
	// after it. Zero means 90 s.
	Lease  time.Duration
	Logger *slog.Logger
	Now    func() time.Time
}

// Handler implements gateway.Handler for the pair.
type Handler struct {
	opts     Options
	served   map[string]bool
	only     string
	live     provider
	sandbox  provider
	photos   *photoSource
	jobs     jobStore
	callback *callback
	lease    time.Duration
	wg       sync.WaitGroup

	// Pipeline serves the pair alone (ServeRequest, Invoke), with Auth
	// and Logger from Options: tests and tools. A deployed function builds
	// its pipeline in app, around every contract it serves.
	*gateway.Pipeline
}

// New checks opts and builds a Handler.
func New(opts Options) (*Handler, error) {
	if opts.Auth == nil {
		opts.Auth = gateway.LoopbackOnly{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Handler{opts: opts, served: map[string]bool{}, lease: opts.Lease}
	if h.lease <= 0 {
		h.lease = leaseTTL
	}
	names := opts.Endpoints
	if len(names) == 0 {
		names = []string{ActionAdv, ActionResult}
	}
	for _, n := range names {
		if n != ActionAdv && n != ActionResult {
			return nil, errs.E(errs.Internal, "InvalidConfiguration", "faceadv: unknown endpoint %q (want faceAdv or faceAdvResult)", n)
		}
		h.served[n] = true
	}
	if len(h.served) == 1 {
		h.only = names[0]
	}
	h.sandbox = sandbox{now: opts.Now}
	if opts.Live != nil {
		h.live = live{c: opts.Live}
	}
	var err error
	if h.photos, err = newPhotoSource(opts.FDSBaseURL); err != nil {
		return nil, errs.Configf(EnvFDSBaseURL, "faceadv: %s", err.Error())
	}
	if opts.Redis != nil {
		h.jobs = redisJobs{rdb: opts.Redis, keys: opts.StoreKeys}
	} else {
		h.jobs = newMemJobs()
	}
	// Alone, the contract is exercised with documented tokens nobody
	// created here: a token this pipeline bound is still checked.
	if h.Pipeline, err = gateway.New(gateway.Options{Contracts: []gateway.Contract{h}, Auth: opts.Auth,
		Logger: opts.Logger, OwnersPartial: true}); err != nil {
		return nil, err
	}
	if opts.CallbackURL != "" {
		if opts.CallbackSecret == "" {
			return nil, errs.Configf(EnvCallbackSecret, "faceadv: IDV_FACEADV_CALLBACK_URL needs IDV_FACEADV_CALLBACK_SECRET to sign callbacks")
		}
		h.callback = &callback{url: opts.CallbackURL, secret: []byte(opts.CallbackSecret),
			client: &http.Client{Timeout: 10 * time.Second}, now: opts.Now}
	}
	return h, nil
}

// Mode is "live" or "sandbox".
func (h *Handler) Mode() string {
	if h.live == nil {
		return "sandbox"
	}
	return "live"
}

// Endpoints lists the served endpoints, sorted.
func (h *Handler) Endpoints() []string {
	out := make([]string, 0, len(h.served))
	for n := range h.served {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Wait blocks until background jobs of this instance have finished.
func (h *Handler) Wait() { h.wg.Wait() }

// serve runs one authenticated request of action.
func (h *Handler) serve(ctx context.Context, action string, c *gateway.Caller, body []byte) *Envelope {
	r, err := decode(body)
	if err != nil {
		return failure("", err)
	}
	if action == ActionAdv {
		err = r.validateAdv(h.photos.fds != nil)
	} else {
		err = r.validateResult()
	}
	if err != nil {
		return failure("", err)
	}
	if action == ActionResult && r.TraceNo != "" {
		return h.fetchJob(ctx, c, r.TraceNo)
	}
	useSandbox := h.live == nil || c.Test
	traceNo := newTraceNo(h.opts.Now())
	if !r.Async {
		return h.execute(ctx, action, r, useSandbox, traceNo)
	}
	if _, mem := h.jobs.(*memJobs); mem && h.opts.RequireStoreForAsync {
		return failure("", invalid("async", "needs a shared job store on this platform: the operator must set IDV_REDIS_URL"))
	}
	j := &Job{TraceNo: traceNo, Action: action, Request: *r, Sandbox: useSandbox, Caller: c.ID,
		State: statePending, Created: h.opts.Now()}
	if err := h.jobs.put(ctx, j); err != nil {
		return failure(traceNo, errs.Wrap(err, errs.Unavailable, "", "the job store could not be reached; nothing was started"))
	}
	h.start(traceNo)
	env := processing(traceNo)
	env.Data.ExtData = r.ExtData
	return env
}

func (h *Handler) start(traceNo string) {
	if h.opts.Background != nil {
		h.opts.Background(traceNo)
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), h.lease)
		defer cancel()
		if _, err := h.runJob(ctx, traceNo); err != nil {
			h.opts.Logger.Warn("faceadv job", slog.String("trace_no", traceNo), slog.String("error", errs.As(err).Code))
		}
	}()
}

// execute does the work of one request: validated input in, envelope out.
// The caller's extData (seed 002: 附加参数登记, additional information
// registered with the call) comes back in data.extData of the answer, and
// of an async job's final answer, which keeps it with the job (sealed with
// IDV_STORE_KEY, like the rest of the request); it is never logged.
func (h *Handler) execute(ctx context.Context, action string, r *Request, useSandbox bool, traceNo string) *Envelope {
	env := h.executeOnly(ctx, action, r, useSandbox, traceNo)
	if env.Data != nil {
		env.Data.ExtData = r.ExtData
	}
	return env
}

func (h *Handler) executeOnly(ctx context.Context, action string, r *Request, useSandbox bool, traceNo string) *Envelope {
	p := h.live
	if useSandbox {
		p = h.sandbox
	}
	if action == ActionResult {
		rec, err := p.record(ctx, r.OrderNo, r.files())
		if err != nil {
			return failure(traceNo, err)
		}
		env := success(traceNo, rec)
		if rec.TencentCode != "0" {
			env.Data.Status, env.Errmsg = StatusFail, StatusFail
		}
		return env
	}
	in := startInput{OrderNo: r.OrderNo, UserID: r.UserID, Name: r.Name, IDNo: r.IDNo}
	if in.OrderNo == "" {
		// Derived from the traceNo, so a resumed job sends the same
		// orderNo and WeBank sees one order, not two.
		in.OrderNo = "FA" + traceNo
		if useSandbox {
			in.OrderNo = sandboxOrderNo(r.UserID, traceNo)
		}
	}
	if r.Type == TypeMatch {
		photo, err := h.photos.base64(ctx, r.SourcePhotoStr)
		if err != nil {
			return failure(traceNo, err)
		}
		if len(photo) > MaxPhotoBase64 {
			return failure(traceNo, &fieldError{CodePhoto, "sourcePhotoStr.data", "is too large: at most 400 KB as base64"})
		}
		in.Photo = photo
	}
	res, err := p.start(ctx, in)
	if err != nil {
		return failure(traceNo, err)
	}
	return success(traceNo, res)
}

// fetchJob answers faceAdvResult {"traceNo"}: the stored result, or
// PROCESSING. A job nobody is running (its instance died) is run now.
func (h *Handler) fetchJob(ctx context.Context, c *gateway.Caller, traceNo string) *Envelope {
	j, err := h.jobs.get(ctx, traceNo)
	if err != nil {
		return failure(traceNo, errs.Wrap(err, errs.Unavailable, "", "the job store could not be reached"))
	}
	// Another caller's traceNo is answered like an unknown one.
	if j == nil || j.Caller != c.ID {
		return failure(traceNo, &fieldError{CodeNotFound, "traceNo", "is unknown (jobs are kept 3 days)"})
	}
	if j.State != stateDone {
		if j, err = h.runJob(ctx, traceNo); err != nil {
			return failure(traceNo, err)
		}
	}
	if j.State == stateDone && j.Envelope != nil {
		return j.Envelope
	}
	return processing(traceNo)
}

// ResumeJob runs the job traceNo if it is unfinished and nobody holds its
// lease, and returns its state. It is what a Lambda/SCF asynchronous
// self-invocation {"Action":"faceAdv","resumeJob":traceNo} calls.
func (h *Handler) ResumeJob(ctx context.Context, traceNo string) (*Envelope, error) {
	j, err := h.runJob(ctx, traceNo)
	if err != nil {
		return nil, err
	}
	if j.State == stateDone && j.Envelope != nil {
		return j.Envelope, nil
	}
	return processing(traceNo), nil
}

// ResumeOpen runs every unfinished or undelivered job nobody is running,
// and returns how many it looked at. The local server calls it
// periodically; a deployment can schedule {"Action":"faceAdv","resumeOpen":true}.
func (h *Handler) ResumeOpen(ctx context.Context) (int, error) {
	ids, err := h.jobs.open(ctx)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if _, err := h.runJob(ctx, id); err == errNoJob {
			_ = h.jobs.close(ctx, id) // expired
		}
	}
	return len(ids), nil
}

// Sweep runs ResumeOpen every interval until ctx is done.
func (h *Handler) Sweep(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, h.lease)
			_, _ = h.ResumeOpen(rctx)
			cancel()
		}
	}
}

// runJob runs an unfinished job under its lease and delivers its result.
func (h *Handler) runJob(ctx context.Context, traceNo string) (*Job, error) {
	j, err := h.jobs.get(ctx, traceNo)
	if err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, "", "the job store could not be reached")
	}
	if j == nil {
		return nil, errNoJob
	}
	if j.State == stateDone && (j.Delivered || h.callback == nil) {
		return j, nil
	}
	release, ok, err := h.jobs.lease(ctx, traceNo, h.lease)
	if err != nil {
		return nil, errs.Wrap(err, errs.Unavailable, "", "the job store could not be reached")
	}
	if !ok {
		return j, nil // another runner has it
	}
	defer release()
	// Read again under the lease: the previous runner may just have
	// finished.
	if j, err = h.jobs.get(ctx, traceNo); err != nil || j == nil {
		return nil, errs.Wrap(err, errs.Unavailable, "", "the job store could not be reached")
	}
	if j.State != stateDone {
		j.Attempts++
		if j.Attempts > maxAttempts {
			j.Envelope = failure(traceNo, &fieldError{CodeUnavailable, "job", "was interrupted 3 times and is abandoned; start a new faceAdv"})
		} else {
			// Count the attempt before the upstream call, so a runner that
			// keeps dying cannot retry forever.
			if err := h.jobs.put(ctx, j); err != nil {
				return nil, errs.Wrap(err, errs.Unavailable, "", "the job store could not be reached")
			}
			// The run must not end with the request that triggered it (a
			// poll whose client hung up): its outcome is final.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.lease)
			j.Envelope = h.execute(rctx, j.Action, &j.Request, j.Sandbox, traceNo)
			cancel()
		}
		j.State = stateDone
		j.Delivered = h.callback == nil
		if err := h.jobs.put(context.WithoutCancel(ctx), j); err != nil {
			return nil, errs.Wrap(err, errs.Unavailable, "", "the job store could not be reached")
		}
	}
	if !j.Delivered {
		body, _ := json.Marshal(j.Envelope)
		if err := h.callback.deliver(ctx, traceNo, body); err != nil {
			h.opts.Logger.Warn("faceadv callback failed; the sweep retries it", slog.String("trace_no", traceNo), slog.String("error", err.Error()))
			return j, nil
		}
		j.Delivered = true
		if err := h.jobs.put(context.WithoutCancel(ctx), j); err != nil {
			return j, nil
		}
	}
	_ = h.jobs.close(context.WithoutCancel(ctx), traceNo)
	return j, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
