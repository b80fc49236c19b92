package fieldcrypt

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/emmansun/gmsm/sm2"
	"github.com/idverify/idverify/shared/jsonshape"
	"github.com/idverify/idverify/shared/provider"
)

// Off is the setting that turns encryption on the caller's behalf off.
const Off = "off"

// Provider wraps a FaceID provider (Tencent, or the sandbox): it encrypts
// each request on the caller's behalf before it leaves, decrypts the
// encrypted answer, and decrypts eID identities. It sits below precheck
// (shared/service), so the plain-text checks have already run on exactly
// what the caller sent.
type Provider struct {
	Next provider.FaceID
	// Keys wrap each request's key: Tencent's, or the sandbox's.
	Keys PublicKeys
	// LoadKeys gives the keys on first use when Keys is empty: parsing an
	// RSA key and setting up the SM2 curve costs a cold start about a
	// millisecond and half a megabyte, which a function that never
	// encrypts should not pay.
	LoadKeys func() PublicKeys
	// Algorithm is the function's setting (IDV_FACEID_ENCRYPT): AES256CBC,
	// SM4GCM, or "" / Off. A caller's own setting, carried by
	// provider.WithEncryption, overrides it.
	Algorithm string
	// EidKey, when set, decrypts GetEidResult's EidInfo.
	EidKey *sm2.PrivateKey
	// Log hears that something did not decrypt, never a value.
	Log *slog.Logger
}

var _ provider.FaceID = (*Provider)(nil)

// Name is the wrapped provider's.
func (p *Provider) Name() string { return p.Next.Name() }

// Call implements provider.FaceID.
func (p *Provider) Call(ctx context.Context, action string, params json.RawMessage) (json.RawMessage, error) {
	alg := p.Algorithm
	if c := provider.Encryption(ctx); c != "" {
		alg = c
	}
	var sealed *Sealed
	if Known(alg) {
		var err error
		keys := p.Keys
		if keys.RSA == nil && keys.SM2 == nil && p.LoadKeys != nil {
			keys = p.LoadKeys()
		}
		if sealed, err = Encrypt(keys, alg, action, params); err != nil {
			return nil, err
		}
		if sealed != nil {
			params = sealed.Params
		}
	}
	body, err := p.Next.Call(ctx, action, params)
	if err != nil {
		return nil, err
	}
	if sealed != nil {
		if body, err = sealed.Decrypt(body); err != nil {
			p.log().WarnContext(ctx, "encrypted answer did not decrypt", slog.String("action", action), slog.String("algorithm", alg))
			return nil, err
		}
	}
	if action == "GetEidResult" && p.EidKey != nil {
		body = p.eidIdentity(ctx, body)
	}
	return body, nil
}

// eidIdentity adds EidInfo.UserInfoDecrypted beside the encrypted
// DesKey and UserInfo. An EidInfo that does not decrypt with the
// configured key is left as it came, with a warning (no value logged):
// the call was billed, so the answer is not thrown away.
func (p *Provider) eidIdentity(ctx context.Context, body json.RawMessage) json.RawMessage {
	raw, ok := jsonshape.Member(body, "EidInfo")
	if !ok {
		return body
	}
	var info map[string]json.RawMessage
	if json.Unmarshal(raw, &info) != nil || info == nil {
		return body // null: the flow has not finished, or no identity was applied for
	}
	var desKey, userInfo string
	if json.Unmarshal(info["DesKey"], &desKey) != nil || json.Unmarshal(info["UserInfo"], &userInfo) != nil || desKey == "" || userInfo == "" {
		return body
	}
	id, err := OpenEidInfo(p.EidKey, desKey, userInfo)
	if err != nil {
		p.log().WarnContext(ctx, "eID identity did not decrypt with IDV_EID_SM2_PRIVATE_KEY: is it the key whose CSR was uploaded to the console?")
		return body
	}
	info["UserInfoDecrypted"], _ = marshal(id)
	var outer map[string]json.RawMessage
	if json.Unmarshal(body, &outer) != nil {
		return body
	}
	outer["EidInfo"], _ = marshal(info)
	out, err := marshal(outer)
	if err != nil {
		return body
	}
	return out
}

func (p *Provider) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}
