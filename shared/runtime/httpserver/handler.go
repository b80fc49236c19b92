package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/idverify/idverify/shared/gateway"
	"github.com/idverify/idverify/shared/runtime/dispatch"
	"github.com/idverify/idverify/shared/runtime/invocation"
)

// NewHandler adapts h to net/http with cfg's body limit, timeout and proxy
// trust.
func NewHandler(h gateway.Handler, cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := FromHTTP(w, r, cfg.MaxBody, cfg.TrustProxy)
		if err != nil {
			id := dispatch.NewRequestID()
			if errors.Is(err, errTooLarge) {
				write(w, dispatch.ErrorResponse(http.StatusRequestEntityTooLarge, "InvalidParameter.BodyTooLarge",
					fmt.Sprintf("request body exceeds %d bytes", cfg.MaxBody), id))
				return
			}
			// The client went away or sent a broken body: nothing useful
			// to say, but answer in case it is still listening.
			write(w, dispatch.ErrorResponse(http.StatusBadRequest, "InvalidParameter", "could not read request body", id))
			return
		}
		req.RequestID = dispatch.NewRequestID()
		ctx, cancel := context.WithTimeout(r.Context(), cfg.HandlerTimeout)
		defer cancel()
		ctx = invocation.NewContext(ctx, invocation.Info{Platform: cfg.Platform, RequestID: req.RequestID})
		write(w, dispatch.Serve(ctx, h, req))
	})
}

func write(w http.ResponseWriter, resp *gateway.Response) {
	hdr := w.Header()
	for k, vs := range resp.Header {
		hdr[k] = append(hdr[k][:0:0], vs...)
	}
	hdr.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(resp.Body)
}
