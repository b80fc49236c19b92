package tencent

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/idverify/idverify/shared/jsonshape"
)

// One FaceID call on the wire: the API 3.0 form (POST /, JSON, X-TC-*
// headers) signed with TC3-HMAC-SHA256, the algorithm every Tencent SDK
// implements (tencentcloud-sdk-go's Client.sendWithSignatureV3 among them;
// TestSignatureMatchesSDK checks ours against it byte for byte).
//
// The SDK's Client.Send is not used on this path because it cannot send a
// body as it is: it marshals the request again (a copy, then another as a
// string, and a third for hashing), and decodes every answer three times
// before handing it over. Here the caller's params are hashed and streamed
// from the buffer they arrived in, and the answer is read once and decoded
// once.

// requestClient is sent as X-TC-RequestClient (Tencent's per-client
// statistics).
const requestClient = "idverify"

// language is X-TC-Language, as the SDK's default profile sends it.
const language = "zh-CN"

// signer signs requests with the current credentials. The TC3 signing key
// depends only on the secret key and the UTC date, so it is derived once a
// day (or when the key rotates) rather than with three HMACs per call.
type signer struct {
	host string // Host header and signed host: host[:port]
	url  string // scheme://host[:port][/path]/
	now  func() time.Time
	key  atomic.Pointer[signingKey]
}

type signingKey struct {
	secret, date string
	key          []byte
}

// signingKey is kDate→kService→kSigning of the TC3 algorithm.
func (s *signer) signingKey(secret, date string) []byte {
	if k := s.key.Load(); k != nil && k.secret == secret && k.date == date {
		return k.key
	}
	k := hmacSHA256([]byte("TC3"+secret), date)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "tc3_request")
	s.key.Store(&signingKey{secret: secret, date: date, key: k})
	return k
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// authorization is the Authorization header of a POST of a JSON body whose
// SHA-256 is payloadHash, at Unix time ts. Content-Type and Host are the
// signed headers; the canonical URI is "/" whatever the endpoint's path,
// as in every Tencent SDK.
func (s *signer) authorization(id, secret string, ts int64, payloadHash []byte) string {
	date := time.Unix(ts, 0).UTC().Format("2006-01-02")
	var hexBuf [2 * sha256.Size]byte
	hex.Encode(hexBuf[:], payloadHash)

	canonical := make([]byte, 0, 128+len(s.host))
	canonical = append(canonical, "POST\n/\n\ncontent-type:application/json\nhost:"...)
	canonical = append(canonical, s.host...)
	canonical = append(canonical, "\n\ncontent-type;host\n"...)
	canonical = append(canonical, hexBuf[:]...)
	ch := sha256.Sum256(canonical)
	hex.Encode(hexBuf[:], ch[:])

	scope := date + "/" + service + "/tc3_request"
	mac := hmac.New(sha256.New, s.signingKey(secret, date))
	mac.Write([]byte("TC3-HMAC-SHA256\n" + strconv.FormatInt(ts, 10) + "\n" + scope + "\n"))
	mac.Write(hexBuf[:])
	var sum [sha256.Size]byte
	hex.Encode(hexBuf[:], mac.Sum(sum[:0]))
	return "TC3-HMAC-SHA256 Credential=" + id + "/" + scope + ", SignedHeaders=content-type;host, Signature=" + string(hexBuf[:])
}

// newRequest builds the signed HTTP request of one attempt. Its body reads
// params in place: nothing is copied, however large.
func (f *FaceID) newRequest(ctx context.Context, action string, params []byte) (*http.Request, error) {
	id, secret, token := f.cred()
	ts := f.sign.now().Unix()
	sum := sha256.Sum256(params)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.sign.url, bytes.NewReader(params))
	if err != nil {
		return nil, err
	}
	req.Host = f.sign.host
	// Canonical keys, set directly: these are every header of the call.
	req.Header = http.Header{
		"Content-Type":       {"application/json"},
		"X-Tc-Action":        {action},
		"X-Tc-Version":       {version},
		"X-Tc-Timestamp":     {strconv.FormatInt(ts, 10)},
		"X-Tc-Region":        {f.region},
		"X-Tc-Language":      {language},
		"X-Tc-Requestclient": {requestClient},
		"Authorization":      {f.sign.authorization(id, secret, ts, sum[:])},
	}
	if token != "" {
		req.Header["X-Tc-Token"] = []string{token}
	}
	return req, nil
}

// errBodyRead marks a failure while the answer was being read.
type errBodyRead struct{ err error }

func (e *errBodyRead) Error() string { return "reading FaceID's answer: " + e.err.Error() }
func (e *errBodyRead) Unwrap() error { return e.err }

var errEncoding = errors.New("unsupported Content-Encoding")

// readAnswer reads the whole answer, in one buffer of its declared length
// when it has one. (Go's transport undoes the gzip it asked for; deflate
// is undone here, as the SDK does.)
func readAnswer(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	switch resp.Header.Get("Content-Encoding") {
	case "":
	case "deflate":
		fr := flate.NewReader(resp.Body)
		defer fr.Close()
		r = fr
		resp.ContentLength = -1
	default:
		return nil, errEncoding
	}
	size := 512
	if resp.ContentLength > 0 && resp.ContentLength < 1<<30 {
		size = int(resp.ContentLength) + 1 // and the read that sees EOF
	}
	buf := make([]byte, 0, size)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, &errBodyRead{err}
		}
	}
}

// parseAnswer reads FaceID's answer the way the SDK did: a Response.Error
// (or an old-style error) is FaceID's refusal whatever the HTTP status;
// otherwise anything but HTTP 200 with a Response object is a bad answer.
// It returns the inner Response object, a slice of body (returned byte for
// byte), or an *upstreamError, or errUnreadable, errStatus or errNoResponse.
//
// Member names match as encoding/json matches them to struct fields (case
// folded), the last of two winning; one pass over the body, one more over
// the Response object, nothing decoded but the error's strings.
func parseAnswer(body []byte, status int) (json.RawMessage, error) {
	var resp []byte
	legacy := false
	if string(bytes.TrimSpace(body)) == "null" {
		// encoding/json reads null as an empty answer: judged by its status.
		return answerOf(nil, inner{}, status)
	}
	if !jsonshape.Members(body, func(name, value []byte) bool {
		switch {
		case bytes.EqualFold(name, []byte("Response")):
			resp = value
		case bytes.EqualFold(name, []byte("code")), bytes.EqualFold(name, []byte("message")), bytes.EqualFold(name, []byte("codeDesc")):
			legacy = true
		}
		return true
	}) {
		return nil, errUnreadable
	}
	if legacy {
		return parseLegacy(body, status)
	}
	var in inner
	if len(resp) > 0 && resp[0] == '{' {
		bad := false
		jsonshape.Members(resp, func(name, value []byte) bool {
			switch {
			case bytes.EqualFold(name, []byte("Error")):
				bad = json.Unmarshal(value, &in.Error) != nil
			case bytes.EqualFold(name, []byte("RequestId")):
				bad = !decodeString(value, &in.RequestId)
			}
			return !bad
		})
		if bad {
			return nil, errUnreadable
		}
	}
	return answerOf(resp, in, status)
}

// answerOf decides on an answer once its parts are read.
func answerOf(resp []byte, in inner, status int) (json.RawMessage, error) {
	if in.Error != nil && in.Error.Code != "" {
		return nil, &upstreamError{code: in.Error.Code, message: in.Error.Message, requestID: in.RequestId}
	}
	if status != http.StatusOK {
		return nil, errStatus
	}
	if len(resp) == 0 || resp[0] != '{' {
		return nil, errNoResponse
	}
	return json.RawMessage(resp), nil
}

// parseLegacy reads an answer that has members of Tencent's pre-3.0 error
// shape ({"code":4000,"codeDesc":"...","message":"..."}), which the SDK
// also recognised, with encoding/json.
func parseLegacy(body []byte, status int) (json.RawMessage, error) {
	var a struct {
		Response view
		Code     int    `json:"code"`
		Message  string `json:"message"`
		CodeDesc string `json:"codeDesc"`
	}
	if json.Unmarshal(body, &a) != nil {
		return nil, errUnreadable
	}
	var in inner
	if len(a.Response) > 0 && a.Response[0] == '{' && json.Unmarshal(a.Response, &in) != nil {
		return nil, errUnreadable
	}
	if (in.Error == nil || in.Error.Code == "") && a.Code != 0 {
		return nil, &upstreamError{code: a.CodeDesc, message: a.Message}
	}
	return answerOf(a.Response, in, status)
}

// decodeString decodes a JSON string (or null, which leaves *s alone) as
// encoding/json would, without its machinery when there is no escape (nor
// invalid UTF-8, which encoding/json replaces with U+FFFD).
func decodeString(lit []byte, s *string) bool {
	if len(lit) >= 2 && lit[0] == '"' && bytes.IndexByte(lit, '\\') < 0 && utf8.Valid(lit) {
		*s = string(lit[1 : len(lit)-1])
		return true
	}
	return json.Unmarshal(lit, s) == nil
}

// inner is what the provider itself reads of the Response object.
type inner struct {
	Error *struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	} `json:"Error"`
	RequestId string `json:"RequestId"`
}

// view is a member's JSON as a slice of the answer being decoded, which
// is kept alive as long as the view: it need not be copied.
type view []byte

func (v *view) UnmarshalJSON(b []byte) error { *v = b; return nil }

// upstreamError is FaceID's own refusal: Response.Error.
type upstreamError struct {
	code, message, requestID string
}

func (e *upstreamError) Error() string { return e.code + ": " + e.message }

var (
	errUnreadable = errors.New("FaceID's answer is not JSON")
	errNoResponse = errors.New("response has no Response object")
	errStatus     = errors.New("HTTP status other than 200")
)
