package sandbox

import (
	"crypto/x509"
	"encoding/pem"
	"sync"

	"github.com/emmansun/gmsm/sm2"
	"github.com/idverify/idverify/shared/fieldcrypt"
)

// The sandbox's test key pairs. They are published on purpose: the sandbox
// verifies and bills nothing, and a caller testing its own encryption
// against the sandbox encrypts to their public halves (README "Sensitive
// data" points here). Tencent's keys, and a customer's eID key, never
// appear here.
const (
	// RSAPrivateKey unwraps AES-256-CBC keys (2048-bit, PKCS#1).
	RSAPrivateKey = `-----BEGIN RSA PRIVATE KEY-----
MIIEowIBAAKCAQEAwZ7f3u65hzLbC8OPcDg4zOWcDkkpBJ5hSZypgfPmmyy35fmR
DP965a96niGWkcr4Q3/hidCflVXob8r+7TLRXzQrIepgOQbcx89MZJRiI33p6xhb
4Ig/vBTmWKX7fg3j2zC91j1RwMx0/SfVqa3Uog22+QAKVecwJkKrOKl+8CWI/EmT
6Zd2jCv/ui9vmRaBrXesuH3eFlT58Ju+Iz7CVDLjjv3b0Rn/acHYjIZLgyPTUYpZ
hIedxtyNHuAfGo+N6f3M7FYBssz3+0bx59r5cU0InygUtTh4H3Ve87vpUZFWTlzv
iqK2F1E3YTDh98bz5R77FfoMV9ckMdtTZ/gYNQIDAQABAoIBAD5izxZ5TA08fSjO
s76AVwjqKLzPpOhIkedSk6l8KX8xSvXOUobiILq2LmeaQfYq9JBnOYga0PigrBqt
STOrbpvi5szwRF3LkMLOz/oOd4qhDQiDmkMAE60p/MhuftiwaA0dqOVJb7iUCFPz
jFw2Vu96RMz5Tts7+R8y1xGUR4LfvTQWUpBmFt458o5mX8BqBTbzEZogGtf0arcN
waG4ZeW+K1YaM+8CP2IPgADxy/HrRRH6/dOXKpD/Kzi0qf5iAsiZbk8SOFBxnw18
XEwLrdbsZx+OI/8zyvte+iOZO0TU5XxlAHxmA0ze14knFKvhmQrZkKeSwAZ7/zP7
RPaTnrcCgYEA86E+KHg/NTdiH9+wFysuzDNDRpePeMlO664ZYEyRgGOms3aQfMnz
ctZkr7t+Z5TrEMss98QyP4QpjA282A5309eK5pKh7rpxx9yIV09vN0tbMF+qgmL1
7a+pq8m8um+5VbioRA7OumMegcNDB1ukUsDMvNN+uE92JFiRbm6wfcMCgYEAy3OZ
kZX2CSLhJ1V4Xd6AllO9hilx/l++rA/jmstfHCAnmb1sfejGDj94/lsJtc4d6DT0
41j4kbD7ODRytNpNdHca9xMJbEepOaXMXD2hYwjEaZHPX1Ov3BQbuBQ/02S/kGe0
Tr+SmB5+JbbfCRKWh0P3tobEVtMErcZby4dq2qcCgYEAuYED4DK3BiE2gMiEvw9t
YaSCzERoxPKbOg7lWZLTkyvNaYaUu7/Vs5IVNk2QEPSuC6p4geuMyxopvG9VZDmX
+eB77damoCysqB5+XeSo7TReqbWeEguh8Co6CgjgwCCDwQaKcM/JjtgcCXgRGJAp
zazp97keGt6+OSyLB8gWcJsCgYAxzn8N8RRmcC+GnZn2AP6hzqZbLdJGX9Ih9VHX
F2qVTBnlvUXOHSo/WrKYMllSNL+FlVFORv2zTQxzWgOq2raTiIUFb5ei9ngrMLey
7TORNxg+b//AapBm5FVU30Aw1D1BcOHnVWbh7rUbLoWzhuVq/+yotp1iVA6VLDZU
wTYbiQKBgF5ZsGypeoicYZQsh1JGLVhfqpADTg29ptsGcBGCwOqWcDvlg6+wfcWJ
+O4On1Ui54k12edxOwudr/Jg2NGcQZPwYEhRaKvjDHHgQoHdE6PFUkYpd0XFrGsw
7vEPBzbeKcokhe9zHVnWG7NiUsYOll7l6uzsiMsFHfJusAFavJuP
-----END RSA PRIVATE KEY-----
`
	// SM2PrivateKey unwraps SM4-GCM keys.
	SM2PrivateKey = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIA9v/Q3TjUBQ0SWKKi9BONdgi5zpgGAgKSbsN6IJ9k7RoAoGCCqBHM9V
AYItoUQDQgAE2/oJwnFW5+vqQ80WDvbwb68bvPCUpFsAw3iUJM/AdgPRWH2TOsMi
TeAOGg37YTH8TaKSuUec+ydmcS21PUeN1Q==
-----END EC PRIVATE KEY-----
`
	// EidPrivateKey is the sandbox merchant's eID key: GetEidResult's
	// EidInfo is encrypted to it unless the function configures its own
	// (IDV_EID_SM2_PRIVATE_KEY), so a caller can try its decryption.
	EidPrivateKey = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIAZ5kxWf4amCcfez11oicTdCfie/NU0TAmoxtN7Y21vXoAoGCCqBHM9V
AYItoUQDQgAEVyTWGLwledI7VubGJvZMER5AqPnt6hujo2d/RnUqJmOkpwgvLMVn
JXoY6CawaSTE1r3TjVyaQeT3UmjAuWinQw==
-----END EC PRIVATE KEY-----
`
)

type testKeys struct {
	priv fieldcrypt.PrivateKeys
	eid  *sm2.PrivateKey
}

// testKeyPairs parses the test keys once, on first use: a function that never sees
// encryption pays nothing for them.
var testKeyPairs = sync.OnceValue(func() testKeys {
	b, _ := pem.Decode([]byte(RSAPrivateKey))
	r, err := x509.ParsePKCS1PrivateKey(b.Bytes)
	if err != nil {
		panic("sandbox: test RSA key: " + err.Error())
	}
	s, err := fieldcrypt.ParseSM2PrivateKey(SM2PrivateKey)
	if err != nil {
		panic("sandbox: test SM2 key: " + err.Error())
	}
	e, err := fieldcrypt.ParseSM2PrivateKey(EidPrivateKey)
	if err != nil {
		panic("sandbox: test eID key: " + err.Error())
	}
	return testKeys{priv: fieldcrypt.PrivateKeys{RSA: r, SM2: s}, eid: e}
})

// PublicKeys are the keys a function wraps request keys with when the
// sandbox answers.
func PublicKeys() fieldcrypt.PublicKeys {
	k := testKeyPairs()
	return fieldcrypt.PublicKeys{RSA: &k.priv.RSA.PublicKey, SM2: &k.priv.SM2.PublicKey}
}
