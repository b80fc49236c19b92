package tencentcloud

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

type bucket struct {
	region    string
	created   time.Time
	lifecycle []byte
	objects   map[string][]byte
}

// Object returns the bytes of a stored COS object (bucket is the full name,
// <name>-<appid>).
func (s *Server) Object(bucketName, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		return nil, false
	}
	data, ok := b.objects[strings.TrimPrefix(key, "/")]
	return slices.Clone(data), ok
}

// cosError is COS's error document.
type cosError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource"`
	RequestID string   `xml:"RequestId"`
	status    int
}

func cosErr(status int, code, format string, args ...any) *cosError {
	return &cosError{status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func (s *Server) serveCOS(w http.ResponseWriter, r *http.Request, host string) {
	call := Call{Host: host, Service: "cos", Params: map[string]any{}}
	reqID := s.requestID()
	w.Header().Set("x-cos-request-id", reqID)
	fail := func(e *cosError) {
		call.ErrorCode = e.Code
		s.record(call)
		e.Resource, e.RequestID = host+r.URL.Path, reqID
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(e.status)
		if r.Method != http.MethodHead {
			_ = xml.NewEncoder(w).Encode(e)
		}
	}
	// The host names the bucket and region: <bucket>-<appid>.cos.<region>.myqcloud.com.
	var bucketName, region string
	if host != "service.cos.myqcloud.com" {
		name, rest, _ := strings.Cut(host, ".cos.")
		region = strings.TrimSuffix(rest, ".myqcloud.com")
		if name == host || region == rest || !slices.Contains(s.regions, region) || name == "" {
			call.Action = r.Method + " " + r.URL.Path
			fail(cosErr(http.StatusNotFound, "NotImplemented", "host %s is not a bucket endpoint of a served region", host))
			return
		}
		bucketName = name
	}
	call.Region = region
	call.Params["Bucket"] = bucketName
	key := strings.TrimPrefix(r.URL.Path, "/")
	q := r.URL.Query()
	switch {
	case bucketName == "" && r.Method == http.MethodGet && key == "":
		call.Action = "GetService"
	case bucketName == "":
		call.Action = r.Method + " " + r.URL.Path
	case key == "" && r.Method == http.MethodPut && len(q) == 0:
		call.Action = "PutBucket"
	case key == "" && r.Method == http.MethodPut && q.Has("lifecycle") && len(q) == 1:
		call.Action = "PutBucketLifecycle"
	case key == "" && r.Method == http.MethodHead && len(q) == 0:
		call.Action = "HeadBucket"
	case key != "" && r.Method == http.MethodPut && len(q) == 0 && r.Header.Get("x-cos-copy-source") == "":
		call.Action = "PutObject"
		call.Params["Key"] = key
	case key != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && len(q) == 0:
		call.Action = "GetObject"
		call.Params["Key"] = key
	default:
		call.Action = r.Method + " " + r.URL.RequestURI()
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<30))
	if err != nil {
		fail(cosErr(http.StatusBadRequest, "IncompleteBody", "cannot read the body: %v", err))
		return
	}
	call.Auth = "cos-sha1"
	if e := s.verifyCOS(r); e != nil {
		if r.Header.Get("Authorization") == "" {
			call.Auth = ""
		}
		fail(e)
		return
	}
	if bucketName != "" && !strings.HasSuffix(bucketName, "-"+s.appID) {
		fail(cosErr(http.StatusForbidden, "AccessDenied", "bucket %s is not of APPID %s", bucketName, s.appID))
		return
	}
	if md := r.Header.Get("Content-MD5"); md != "" {
		sum := md5.Sum(body)
		if md != base64.StdEncoding.EncodeToString(sum[:]) {
			fail(cosErr(http.StatusBadRequest, "BadDigest", "Content-MD5 does not match the body"))
			return
		}
	}
	call.Params["Size"] = len(body)

	s.mu.Lock()
	b := s.buckets[bucketName]
	var e *cosError
	switch call.Action {
	case "GetService":
		type bk struct{ Name, Location, CreationDate string }
		var list []bk
		for n, x := range s.buckets {
			list = append(list, bk{n, x.region, x.created.UTC().Format(time.RFC3339)})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
		s.mu.Unlock()
		s.record(call)
		w.Header().Set("Content-Type", "application/xml")
		_ = xml.NewEncoder(w).Encode(struct {
			XMLName xml.Name `xml:"ListAllMyBucketsResult"`
			Owner   struct{ ID, DisplayName string }
			Buckets []bk `xml:"Buckets>Bucket"`
		}{Owner: struct{ ID, DisplayName string }{"qcs::cam::uin/" + s.uin + ":uin/" + s.uin, s.uin}, Buckets: list})
		return
	case "PutBucket":
		if b != nil {
			e = cosErr(http.StatusConflict, "BucketAlreadyOwnedByYou", "bucket %s already exists and is yours", bucketName)
		} else {
			s.buckets[bucketName] = &bucket{region: region, created: s.now(), objects: map[string][]byte{}}
		}
	case "PutBucketLifecycle":
		switch {
		case b == nil:
			e = cosErr(http.StatusNotFound, "NoSuchBucket", "bucket %s does not exist", bucketName)
		case r.Header.Get("Content-MD5") == "":
			e = cosErr(http.StatusBadRequest, "MissingContentMD5", "PUT Bucket lifecycle needs Content-MD5")
		default:
			var lc struct {
				XMLName xml.Name `xml:"LifecycleConfiguration"`
				Rules   []struct {
					ID     string
					Status string
				} `xml:"Rule"`
			}
			if err := xml.Unmarshal(body, &lc); err != nil || len(lc.Rules) == 0 {
				e = cosErr(http.StatusBadRequest, "MalformedXML", "the lifecycle configuration does not parse: %v", err)
			} else {
				b.lifecycle = body
			}
		}
	case "HeadBucket":
		if b == nil {
			e = cosErr(http.StatusNotFound, "NoSuchBucket", "bucket %s does not exist", bucketName)
		}
	case "PutObject":
		switch {
		case b == nil:
			e = cosErr(http.StatusNotFound, "NoSuchBucket", "bucket %s does not exist", bucketName)
		case b.region != region:
			e = cosErr(http.StatusNotFound, "NoSuchBucket", "bucket %s is not in %s", bucketName, region)
		default:
			b.objects[key] = body
			sum := md5.Sum(body)
			w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
		}
	case "GetObject":
		var data []byte
		var ok bool
		if b != nil {
			data, ok = b.objects[key]
		}
		if !ok {
			e = cosErr(http.StatusNotFound, "NoSuchKey", "object %s does not exist", key)
		} else {
			s.mu.Unlock()
			s.record(call)
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			if r.Method == http.MethodGet {
				_, _ = w.Write(data)
			}
			return
		}
	default:
		e = cosErr(http.StatusNotImplemented, "NotImplemented", "the fake does not model %s %s", r.Method, r.URL.RequestURI())
	}
	s.mu.Unlock()
	if e != nil {
		fail(e)
		return
	}
	s.record(call)
	w.WriteHeader(http.StatusOK)
}

// verifyCOS checks a COS v5 Authorization header:
//
//	q-sign-algorithm=sha1&q-ak=<SecretId>&q-sign-time=<t0>;<t1>&q-key-time=<t0>;<t1>
//	&q-header-list=<names>&q-url-param-list=<names>&q-signature=<hex>
//
// SignKey = hex(HMAC-SHA1(SecretKey, q-key-time)); HttpString = method (lower
// case) \n path \n params \n headers \n, where params and headers are the
// listed names (lower case, URL-encoded) = URL-encoded values, sorted, joined
// by &; StringToSign = "sha1\n" + q-sign-time + "\n" + hex(SHA1(HttpString)) +
// "\n"; Signature = hex(HMAC-SHA1(SignKey, StringToSign)).
func (s *Server) verifyCOS(r *http.Request) *cosError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return cosErr(http.StatusForbidden, "AccessDenied", "the request is not signed")
	}
	a := map[string]string{}
	for _, kv := range strings.Split(h, "&") {
		k, v, ok := strings.Cut(kv, "=")
		if _, dup := a[k]; !ok || dup {
			return cosErr(http.StatusForbidden, "AccessDenied", "malformed Authorization")
		}
		a[k] = v
	}
	for _, k := range []string{"q-sign-algorithm", "q-ak", "q-sign-time", "q-key-time", "q-header-list", "q-url-param-list", "q-signature"} {
		if _, ok := a[k]; !ok {
			return cosErr(http.StatusForbidden, "AccessDenied", "Authorization has no %s", k)
		}
	}
	if a["q-sign-algorithm"] != "sha1" {
		return cosErr(http.StatusForbidden, "AccessDenied", "q-sign-algorithm %q", a["q-sign-algorithm"])
	}
	t0s, t1s, ok := strings.Cut(a["q-sign-time"], ";")
	t0, err0 := strconv.ParseInt(t0s, 10, 64)
	t1, err1 := strconv.ParseInt(t1s, 10, 64)
	if !ok || err0 != nil || err1 != nil || t1 < t0 {
		return cosErr(http.StatusForbidden, "AccessDenied", "malformed q-sign-time")
	}
	now := s.now().Unix()
	if now < t0-int64(MaxSkew/time.Second) {
		return cosErr(http.StatusForbidden, "RequestTimeTooSkewed", "q-sign-time starts in the future")
	}
	if now > t1 {
		return cosErr(http.StatusForbidden, "AccessDenied", "Request has expired")
	}
	cred, ok := s.lookup(a["q-ak"])
	if !ok {
		return cosErr(http.StatusForbidden, "InvalidAccessKeyId", "the access key id does not exist")
	}
	if r.Header.Get("x-cos-security-token") != cred.Token {
		return cosErr(http.StatusForbidden, "InvalidAccessKeyId", "x-cos-security-token does not belong to the key")
	}
	q := r.URL.Query()
	params, err := cosList(a["q-url-param-list"], func(k string) (string, bool) {
		for n, v := range q {
			if strings.ToLower(n) == k {
				return v[0], true
			}
		}
		return "", false
	})
	if err != nil {
		return cosErr(http.StatusForbidden, "SignatureDoesNotMatch", "%v", err)
	}
	headers, err := cosList(a["q-header-list"], func(k string) (string, bool) {
		switch k {
		case "host":
			return r.Host, true
		case "content-length":
			if v := r.Header.Get(k); v != "" {
				return v, true
			}
			return strconv.FormatInt(r.ContentLength, 10), r.ContentLength >= 0
		}
		v, ok := r.Header[http.CanonicalHeaderKey(k)]
		if !ok {
			return "", false
		}
		return v[0], true
	})
	if err != nil {
		return cosErr(http.StatusForbidden, "SignatureDoesNotMatch", "%v", err)
	}
	// x-cos-* headers change what the request does: they must be signed.
	for n := range r.Header {
		if l := strings.ToLower(n); strings.HasPrefix(l, "x-cos-") && !slices.Contains(strings.Split(a["q-header-list"], ";"), l) {
			return cosErr(http.StatusForbidden, "SignatureDoesNotMatch", "header %s is not signed", l)
		}
	}
	httpString := strings.ToLower(r.Method) + "\n" + r.URL.Path + "\n" + params + "\n" + headers + "\n"
	sum := sha1.Sum([]byte(httpString))
	stringToSign := "sha1\n" + a["q-sign-time"] + "\n" + hex.EncodeToString(sum[:]) + "\n"
	keyMAC := hmac.New(sha1.New, []byte(cred.SecretKey))
	keyMAC.Write([]byte(a["q-key-time"]))
	mac := hmac.New(sha1.New, []byte(hex.EncodeToString(keyMAC.Sum(nil))))
	mac.Write([]byte(stringToSign))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(a["q-signature"])) {
		return cosErr(http.StatusForbidden, "SignatureDoesNotMatch", "the signature does not match")
	}
	return nil
}

// cosList renders the names of a q-*-list with their values from get, in
// the signature's form.
func cosList(list string, get func(string) (string, bool)) (string, error) {
	if list == "" {
		return "", nil
	}
	names := strings.Split(list, ";")
	if !sort.StringsAreSorted(names) {
		return "", fmt.Errorf("list %q is not sorted", list)
	}
	parts := make([]string, 0, len(names))
	for _, n := range names {
		v, ok := get(n)
		if !ok {
			return "", fmt.Errorf("signed %q is not in the request", n)
		}
		parts = append(parts, cosEscape(n)+"="+cosEscape(v))
	}
	return strings.Join(parts, "&"), nil
}

// cosEscape percent-encodes all but RFC 3986 unreserved characters.
func cosEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
