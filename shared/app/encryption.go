package app

import (
	"strings"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/idverify/idverify/shared/errs"
	"github.com/idverify/idverify/shared/fieldcrypt"
	"github.com/idverify/idverify/shared/provider"
	"github.com/idverify/idverify/shared/sandbox"
)

// Settings of FaceID's sensitive-data encryption (README "Sensitive data").
const (
	encryptVar   = "IDV_FACEID_ENCRYPT"
	rsaPubVar    = "IDV_FACEID_RSA_PUBLIC_KEY"
	sm2PubVar    = "IDV_FACEID_SM2_PUBLIC_KEY"
	eidPrivVar   = "IDV_EID_SM2_PRIVATE_KEY"
	encryptRules = "use AES-256-CBC, SM4-GCM or off (or leave it unset: off)"
)

func init() {
	// The customer's eID key decrypts names and ID numbers: in production
	// it must be a secret reference.
	SecretVars = append(SecretVars, eidPrivVar)
}

// faceIDCrypto is the function's encryption configuration, read once at
// start: a bad value stops the function naming the variable, never
// repeating the value.
type faceIDCrypto struct {
	alg  string // "" when off
	live fieldcrypt.PublicKeys
	eid  *sm2.PrivateKey
}

func faceIDCryptoFromEnv(getenv func(string) string) (*faceIDCrypto, error) {
	c := &faceIDCrypto{}
	switch v := strings.TrimSpace(getenv(encryptVar)); strings.ToUpper(v) {
	case "", "OFF":
	case fieldcrypt.AES256CBC:
		c.alg = fieldcrypt.AES256CBC
	case fieldcrypt.SM4GCM:
		c.alg = fieldcrypt.SM4GCM
	default:
		return nil, errs.Configf(encryptVar, "%s is not an algorithm: %s", encryptVar, encryptRules)
	}
	// Configured keys are read whatever the mode, so a malformed one fails
	// in the sandbox too, before it reaches production. Tencent's published
	// defaults are known good (tested): they are read on first use.
	rsaPEM, sm2PEM := strings.TrimSpace(getenv(rsaPubVar)), strings.TrimSpace(getenv(sm2PubVar))
	var err error
	if rsaPEM != "" || sm2PEM != "" {
		if rsaPEM == "" {
			rsaPEM = fieldcrypt.TencentRSAPublicKey
		}
		if sm2PEM == "" {
			sm2PEM = fieldcrypt.TencentSM2PublicKey
		}
		if c.live.RSA, err = fieldcrypt.ParseRSAPublicKey(rsaPEM); err != nil {
			return nil, errs.Configf(rsaPubVar, "%s %v", rsaPubVar, err)
		}
		if c.live.SM2, err = fieldcrypt.ParseSM2PublicKey(sm2PEM); err != nil {
			return nil, errs.Configf(sm2PubVar, "%s %v", sm2PubVar, err)
		}
	}
	if v := getenv(eidPrivVar); strings.TrimSpace(v) != "" {
		if c.eid, err = fieldcrypt.ParseSM2PrivateKey(v); err != nil {
			return nil, errs.Configf(eidPrivVar, "%s %v", eidPrivVar, err)
		}
	}
	return c, nil
}

// sandboxOptions hands the sandbox the public half of the eID key, so its
// GetEidResult encrypts identities to it and they come back decrypted.
func (c *faceIDCrypto) sandboxOptions() sandbox.Options {
	if c.eid == nil {
		return sandbox.Options{}
	}
	return sandbox.Options{EidPublicKey: &c.eid.PublicKey}
}

// wrap puts encryption on the caller's behalf and eID decryption around a
// provider: Tencent's keys for the live one, the sandbox's test keys for
// the sandbox (which cannot open what is wrapped to Tencent).
func (c *faceIDCrypto) wrap(p provider.FaceID, sandboxed bool, env *Env) provider.FaceID {
	fp := &fieldcrypt.Provider{Next: p, Keys: c.live, LoadKeys: tencentDefaultKeys, Algorithm: c.alg, EidKey: c.eid, Log: env.Log}
	if sandboxed {
		fp.Keys, fp.LoadKeys = fieldcrypt.PublicKeys{}, sandbox.PublicKeys
	}
	return fp
}

// setting is IDV_FACEID_ENCRYPT as it applies, for the start line.
func (c *faceIDCrypto) setting() string {
	if c.alg == "" {
		return fieldcrypt.Off
	}
	return c.alg
}

// tencentDefaultKeys are Tencent's published keys, parsed on first use.
var tencentDefaultKeys = sync.OnceValue(func() fieldcrypt.PublicKeys {
	r, err1 := fieldcrypt.ParseRSAPublicKey(fieldcrypt.TencentRSAPublicKey)
	s, err2 := fieldcrypt.ParseSM2PublicKey(fieldcrypt.TencentSM2PublicKey)
	if err1 != nil || err2 != nil {
		panic("fieldcrypt: Tencent's published keys do not parse") // a constant; TestTencentDefaultKeysParse
	}
	return fieldcrypt.PublicKeys{RSA: r, SM2: s}
})
