// Command signproxy is the peer of the local server in scripts/bench: a bare
// httputil.ReverseProxy that takes POST /v1/faceid/<Action>, signs the same
// body with TC3-HMAC-SHA256 and forwards it to FaceID's API 3.0 form. No
// caller auth, no validation, no logs.
//
// LISTEN (host:port), FACEID_ENDPOINT (a URL), TENCENTCLOUD_SECRET_ID and
// TENCENTCLOUD_SECRET_KEY configure it.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	up, err := url.Parse(os.Getenv("FACEID_ENDPOINT"))
	if err != nil {
		panic(err)
	}
	id, key := os.Getenv("TENCENTCLOUD_SECRET_ID"), os.Getenv("TENCENTCLOUD_SECRET_KEY")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 32
	proxy := &httputil.ReverseProxy{Transport: tr, Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(up) }}
	panic(http.ListenAndServe(os.Getenv("LISTEN"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		action, ok := strings.CutPrefix(r.URL.Path, "/v1/faceid/")
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if !ok || err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		now := time.Now().UTC()
		ts, date := strconv.FormatInt(now.Unix(), 10), now.Format("2006-01-02")
		canonical := "POST\n/\n\ncontent-type:application/json\nhost:" + up.Host + "\n\ncontent-type;host\n" + hexSHA(body)
		scope := date + "/faceid/tc3_request"
		k := mac(mac(mac([]byte("TC3"+key), date), "faceid"), "tc3_request")
		sig := hex.EncodeToString(mac(k, "TC3-HMAC-SHA256\n"+ts+"\n"+scope+"\n"+hexSHA([]byte(canonical))))
		r.Header = http.Header{
			"Content-Type":   {"application/json"},
			"X-Tc-Action":    {action},
			"X-Tc-Version":   {"2018-03-01"},
			"X-Tc-Timestamp": {ts},
			"X-Tc-Region":    {"ap-guangzhou"},
			"Authorization":  {"TC3-HMAC-SHA256 Credential=" + id + "/" + scope + ", SignedHeaders=content-type;host, Signature=" + sig},
		}
		r.URL.Path, r.Body, r.ContentLength = "/", io.NopCloser(bytes.NewReader(body)), int64(len(body))
		proxy.ServeHTTP(w, r)
	})))
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func hexSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
