package faceadv

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Callback delivery: when IDV_FACEADV_CALLBACK_URL is set, the final
// envelope of every async job is POSTed there. The receiver checks
//
//	X-Idv-Signature: sha256=hex(HMAC-SHA256(secret, X-Idv-Timestamp + "." + body))
//
// and rejects timestamps far from its clock (replay). The URL is the
// operator's, never the caller's, so it cannot be used to reach inside the
// network. A delivery that fails is retried by the sweep; the result stays
// fetchable with faceAdvResult {"traceNo"} either way.
type callback struct {
	url    string
	secret []byte
	client *http.Client
	now    func() time.Time
}

// Header names of a callback.
const (
	HeaderTimestamp = "X-Idv-Timestamp"
	HeaderSignature = "X-Idv-Signature"
	HeaderTraceNo   = "X-Idv-Trace-No"
)

// SignCallback is the signature of a callback body sent at timestamp
// (Unix seconds, decimal), for receivers written in Go.
func SignCallback(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyCallback checks a received callback: the signature, and a
// timestamp within maxSkew of now.
func VerifyCallback(secret []byte, timestamp, signature string, body []byte, now time.Time, maxSkew time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > maxSkew || d < -maxSkew {
		return false
	}
	return hmac.Equal([]byte(SignCallback(secret, timestamp, body)), []byte(signature))
}

func (c *callback) deliver(ctx context.Context, traceNo string, body []byte) error {
	ts := strconv.FormatInt(c.now().Unix(), 10)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, SignCallback(c.secret, ts, body))
	req.Header.Set(HeaderTraceNo, traceNo)
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("callback: network error")
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("callback: HTTP %d", resp.StatusCode)
	}
	return nil
}
