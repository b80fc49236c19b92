package faceadv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/idverify/idverify/shared/jsonshape"
	"github.com/idverify/idverify/shared/validate"
	"github.com/idverify/idverify/shared/webank"
)

// Request is the seed-002 request of both endpoints (faceAdv uses userId,
// type, sourcePhotoStr, name, idNo and optionally orderNo; faceAdvResult
// uses orderNo and getFile, or traceNo to fetch an async job). Members are
// in the seed's order so an example re-encodes as written.
type Request struct {
	Async          bool            `json:"async"`
	ExtData        json.RawMessage `json:"extData,omitempty"`
	UserID         string          `json:"userId,omitempty"`
	Type           string          `json:"type,omitempty"`
	SourcePhotoStr *SourcePhoto    `json:"sourcePhotoStr,omitempty"`
	Name           string          `json:"name,omitempty"`
	IDNo           string          `json:"idNo,omitempty"`
	OrderNo        string          `json:"orderNo,omitempty"`
	GetFile        flexString      `json:"getFile,omitempty"`
	// TraceNo asks faceAdvResult for the outcome of an async job.
	TraceNo string `json:"traceNo,omitempty"`
}

// SourcePhoto is sourcePhotoStr: the comparison photo of type match.
type SourcePhoto struct {
	// Origin is self (base64 in Data), uri (an http/https link) or fds (a
	// path on the configured file server); empty means self.
	Origin string `json:"origin,omitempty"`
	Data   string `json:"data"`
}

// Comparison types.
const (
	TypeMatch     = "match"     // liveness + comparison with the caller's photo (自带源比对)
	TypeAuthMatch = "authmatch" // liveness + comparison with the authority photo (权威源比对)
)

// Photo origins.
const (
	OriginSelf = "self"
	OriginURI  = "uri"
	OriginFDS  = "fds"
)

// Limits.
const (
	maxBody = 1 << 20
	// MaxPhotoBase64 is the seed's limit for base64 photos ("400k"),
	// applied to every origin once the photo is in hand.
	MaxPhotoBase64 = 400 * 1024
	maxExtData     = 4 * 1024
	maxURL         = 2048
	maxFDSPath     = 512
)

// flexString is a string member that also accepts a JSON number, since
// callers send getFile as "2" (the seed) or 2.
type flexString = webank.FlexString

// decode reads a request body strictly.
//
// Unknown members are refused, not ignored. The seed does not say that
// unknown members are ignored: it says only "接口数据格式 `Json`" and lists
// each endpoint's request members in a table (请求参数: async, extData,
// userId, type, sourcePhotoStr{origin, data}, name, idNo for faceAdv;
// async, extData, orderNo, getFile for faceAdvResult), so a member outside
// the tables is a caller's mistake (a typo, a case slip such as "userid",
// another API's member) that ignoring would turn into a silently different
// request. extData is the seed's free-form member ("附加参数登记"): any JSON
// is accepted inside it. orderNo on faceAdv and traceNo on faceAdvResult
// are this service's documented additions. The existing service ignored
// unknown members; a caller that relied on that gets an errcode naming the
// member instead of a different outcome.
//
// So, with package jsonshape against Request, before anything is decoded:
//   - a member Request does not have, at any level, is 40003 naming it
//     (so "sourcePhotoStr.Origin" is refused, not read as origin);
//   - a member twice in one object, invalid UTF-8, anything but one JSON
//     object, nesting deeper than 20 levels and more than 1000 values are
//     40001: the body is not a JSON object this service reads one way.
//
// Members of the wrong JSON type are 40001 naming the member. Members of
// the other endpoint are refused by validateAdv and validateResult.
func decode(body []byte) (*Request, error) {
	if len(body) > maxBody {
		return nil, &fieldError{CodeBadJSON, "body", "must be at most 1 MiB"}
	}
	if err := jsonshape.Check(requestModel, body); err != nil {
		return nil, shapeError(err)
	}
	var r Request
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&r); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, &fieldError{CodeBadJSON, te.Field, "has the wrong JSON type"}
		}
		return nil, &fieldError{CodeBadJSON, "body", "must be a JSON object"}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &fieldError{CodeBadJSON, "body", "must hold a single JSON object"}
	}
	return &r, nil
}

var requestModel = reflect.TypeFor[Request]()

// shapeError renders a jsonshape refusal as an errcode and errmsg. Member
// names are the caller's: quoted and bounded, never a value.
func shapeError(err error) error {
	var e *jsonshape.Error
	if !errors.As(err, &e) {
		return &fieldError{CodeBadJSON, "body", "must be a JSON object"}
	}
	switch e.Kind {
	case jsonshape.InvalidUTF8:
		return &fieldError{CodeBadJSON, "body", fmt.Sprintf("must be UTF-8 (invalid byte at offset %d)", e.Offset-1)}
	case jsonshape.Syntax:
		return &fieldError{CodeBadJSON, "body", fmt.Sprintf("must be a JSON object (invalid JSON at byte %d)", e.Offset)}
	case jsonshape.Truncated:
		return &fieldError{CodeBadJSON, "body", "must be a JSON object (the JSON is truncated)"}
	case jsonshape.NotObject:
		return &fieldError{CodeBadJSON, "body", "must be a JSON object"}
	case jsonshape.TrailingData:
		return &fieldError{CodeBadJSON, "body", "must hold a single JSON object (data follows it)"}
	case jsonshape.TooDeep:
		return &fieldError{CodeBadJSON, "body", fmt.Sprintf("must not nest objects and arrays more than %d levels deep (at %s)", e.Limit, jsonshape.QuotePath(e.Path))}
	case jsonshape.TooManyValues:
		return &fieldError{CodeBadJSON, "body", fmt.Sprintf("must hold at most %d JSON values", e.Limit)}
	case jsonshape.DuplicateKey:
		return &fieldError{CodeBadJSON, jsonshape.QuotePath(e.Path), "appears more than once"}
	case jsonshape.UnknownField:
		if e.Suggest != "" {
			return &fieldError{CodeInvalid, jsonshape.QuotePath(e.Path), "is not a member of this request: member names are case-sensitive, did you mean " + jsonshape.QuotePath(e.Suggest) + "?"}
		}
		if strings.HasPrefix(e.Path, "sourcePhotoStr.") {
			return &fieldError{CodeInvalid, jsonshape.QuotePath(e.Path), "is not a member of sourcePhotoStr (origin, data)"}
		}
		return &fieldError{CodeInvalid, jsonshape.QuotePath(e.Path), "is not a member of this request (faceAdv takes async, extData, userId, type, sourcePhotoStr, name, idNo, orderNo; faceAdvResult async, extData, orderNo, getFile, traceNo)"}
	}
	return &fieldError{CodeBadJSON, "body", "must be a JSON object"}
}

// idChars is the rule for userId and orderNo: WeBank forbids special
// characters and limits both to 32.
func idChars(s string, extra bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case extra && (c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// validateAdv checks a faceAdv request before anything is fetched or paid.
func (r *Request) validateAdv(fdsConfigured bool) error {
	if err := r.validateCommon(); err != nil {
		return err
	}
	switch {
	case r.UserID == "":
		return missing("userId")
	case len(r.UserID) > 32:
		return invalid("userId", "must be at most 32 characters")
	case !idChars(r.UserID, true):
		return invalid("userId", "must contain only letters, digits, '_' and '-' (no special characters)")
	}
	if r.OrderNo != "" {
		if err := checkOrderNo(r.OrderNo); err != nil {
			return err
		}
	}
	switch r.Type {
	case "":
		return missing("type")
	case TypeMatch:
		if r.SourcePhotoStr == nil {
			return invalid("sourcePhotoStr", "is required when type is match")
		}
		if err := r.SourcePhotoStr.validate(fdsConfigured); err != nil {
			return err
		}
		// name and idNo are optional here but must be valid when sent.
		if r.Name != "" || r.IDNo != "" {
			if err := checkIdentity(r.Name, r.IDNo); err != nil {
				return err
			}
		}
	case TypeAuthMatch:
		if r.Name == "" {
			return invalid("name", "is required when type is authmatch")
		}
		if r.IDNo == "" {
			return invalid("idNo", "is required when type is authmatch")
		}
		if err := checkIdentity(r.Name, r.IDNo); err != nil {
			return err
		}
		if r.SourcePhotoStr != nil {
			return invalid("sourcePhotoStr", "must not be sent when type is authmatch (the authority photo is used)")
		}
	default:
		return invalid("type", "must be match or authmatch")
	}
	if r.GetFile != "" || r.TraceNo != "" {
		return invalid("getFile", "and traceNo belong to faceAdvResult")
	}
	return nil
}

func checkIdentity(name, idNo string) error {
	if err := validate.Name(name); err != nil {
		return invalid("name", err.Error())
	}
	if err := validate.IDNumber(idNo); err != nil {
		return invalid("idNo", err.Error())
	}
	return nil
}

func checkOrderNo(s string) error {
	if len(s) > 32 {
		return invalid("orderNo", "must be at most 32 characters")
	}
	if !idChars(s, false) {
		return invalid("orderNo", "must contain only letters and digits")
	}
	return nil
}

// validateResult checks a faceAdvResult request.
func (r *Request) validateResult() error {
	if err := r.validateCommon(); err != nil {
		return err
	}
	// faceAdv's members are not in faceAdvResult's table (see decode).
	for _, m := range []struct {
		name string
		sent bool
	}{{"userId", r.UserID != ""}, {"type", r.Type != ""}, {"sourcePhotoStr", r.SourcePhotoStr != nil}, {"name", r.Name != ""}, {"idNo", r.IDNo != ""}} {
		if m.sent {
			return invalid(m.name, "belongs to faceAdv, not faceAdvResult")
		}
	}
	// getFile: 1 video and photo, 2 photo, 3 video; seed 002: "其他则不
	// 返回" (any other value returns no file), so any value is accepted
	// and the others ask for nothing (see files).
	if r.TraceNo != "" {
		if len(r.TraceNo) > 64 || !idChars(r.TraceNo, false) {
			return invalid("traceNo", "must be the digits faceAdv or faceAdvResult answered")
		}
		return nil
	}
	if r.OrderNo == "" {
		return missing("orderNo")
	}
	return checkOrderNo(r.OrderNo)
}

func (r *Request) validateCommon() error {
	if len(r.ExtData) > maxExtData {
		return invalid("extData", "must be at most 4 KiB of JSON")
	}
	return nil
}

func (p *SourcePhoto) validate(fdsConfigured bool) error {
	if p.Data == "" {
		return invalid("sourcePhotoStr.data", "is required when type is match")
	}
	switch p.Origin {
	case "", OriginSelf:
		if err := validate.Base64Media(p.Data, MaxPhotoBase64); err != nil {
			return &fieldError{CodePhoto, "sourcePhotoStr.data", err.Error() + " (origin self: base64 of at most 400 KB)"}
		}
	case OriginURI:
		if err := validate.HTTPURL(p.Data, maxURL); err != nil {
			return &fieldError{CodePhoto, "sourcePhotoStr.data", err.Error() + " (origin uri: an http or https link)"}
		}
	case OriginFDS:
		if !fdsConfigured {
			return invalid("sourcePhotoStr.origin", "fds is not available: this server has no file server configured (IDV_FACEADV_FDS_BASE_URL)")
		}
		if err := checkFDSPath(p.Data); err != nil {
			return err
		}
	default:
		return invalid("sourcePhotoStr.origin", "must be self, uri or fds")
	}
	return nil
}

// checkFDSPath keeps an fds path inside the file server: no scheme, no
// host, no parent segments, no query.
func checkFDSPath(s string) error {
	bad := func(rule string) error { return &fieldError{CodePhoto, "sourcePhotoStr.data", rule} }
	if len(s) > maxFDSPath {
		return bad("must be at most 512 bytes (origin fds: a file server path)")
	}
	if !utf8.ValidString(s) || strings.ContainsAny(s, "\\?#%\x00") || strings.Contains(s, "://") || strings.HasPrefix(s, "//") {
		return bad("must be a plain file server path (origin fds), not a URL")
	}
	for _, seg := range strings.Split(s, "/") {
		if seg == ".." || seg == "." {
			return bad("must not contain . or .. segments (origin fds)")
		}
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return bad("must not contain control characters (origin fds)")
		}
	}
	return nil
}

// files is what getFile asks WeBank for: "1", "2" or "3", and "" (no
// file) for every other value, as seed 002 says ("其他则不返回"), so an
// unknown value never reaches WeBank.
func (r *Request) files() string {
	switch g := string(r.GetFile); g {
	case "1", "2", "3":
		return g
	}
	return ""
}
