package faceadv

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"github.com/idverify/idverify/shared/safefetch"
)

// photoSource turns sourcePhotoStr into the base64 photo WeBank takes.
type photoSource struct {
	// uri fetches caller-named links: public addresses only.
	uri *safefetch.Fetcher
	// fds fetches from the operator's file server, which may be inside
	// the VPC (the seed's own example host is 172.20.x), so it may reach
	// private addresses, but only under fdsBase.
	fds     *safefetch.Fetcher
	fdsBase *url.URL
}

// maxPhotoBytes is what base64 of MaxPhotoBase64 decodes to.
const maxPhotoBytes = MaxPhotoBase64 / 4 * 3

func newPhotoSource(fdsBase string) (*photoSource, error) {
	ps := &photoSource{uri: safefetch.New(safefetch.Options{MaxBytes: maxPhotoBytes})}
	if fdsBase = strings.TrimSpace(fdsBase); fdsBase != "" {
		u, err := url.Parse(strings.TrimRight(fdsBase, "/") + "/")
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, errors.New("IDV_FACEADV_FDS_BASE_URL must be an http(s) URL")
		}
		ps.fdsBase = u
		ps.fds = safefetch.New(safefetch.Options{MaxBytes: maxPhotoBytes, AllowPrivate: true})
	}
	return ps, nil
}

// base64 returns the photo as standard base64. The request was validated.
func (ps *photoSource) base64(ctx context.Context, p *SourcePhoto) (string, error) {
	switch p.Origin {
	case "", OriginSelf:
		return p.Data, nil
	case OriginURI:
		b, err := ps.uri.Get(ctx, p.Data)
		if err != nil {
			return "", fetchError("uri", err)
		}
		return encode(b)
	case OriginFDS:
		if ps.fds == nil {
			return "", invalid("sourcePhotoStr.origin", "fds is not available: this server has no file server configured")
		}
		u := ps.fdsBase.JoinPath(strings.TrimLeft(p.Data, "/"))
		b, err := ps.fds.Get(ctx, u.String())
		if err != nil {
			return "", fetchError("fds", err)
		}
		return encode(b)
	}
	return "", invalid("sourcePhotoStr.origin", "must be self, uri or fds")
}

func encode(b []byte) (string, error) {
	if len(b) == 0 {
		return "", &fieldError{CodePhoto, "sourcePhotoStr.data", "points to an empty file"}
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

func fetchError(origin string, err error) error {
	rule := "could not be fetched"
	switch {
	case errors.Is(err, safefetch.ErrForbidden):
		rule = "is refused: it resolves to a loopback, private, link-local or otherwise non-public address"
	case errors.Is(err, safefetch.ErrScheme):
		rule = "is refused: only http and https links are fetched"
	case errors.Is(err, safefetch.ErrTooLarge):
		rule = "is too large: at most 300 KB (400 KB as base64)"
	case errors.Is(err, safefetch.ErrStatus):
		rule = "was not found (the server did not answer 200)"
	}
	return &fieldError{CodePhoto, "sourcePhotoStr.data", rule + " (origin " + origin + ")"}
}
