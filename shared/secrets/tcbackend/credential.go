package tcbackend

import (
	"strings"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
)

// Credential sources, in order. Each is a (secret id, secret key, token)
// triple of variable names; the first with an id and a key wins, and its
// three values are never mixed with another source's.
var (
	// ExplicitCredentials is a key pair given to the secrets backend alone,
	// for running outside SCF (another cloud, a workstation, CI). It is
	// deliberately not TENCENTCLOUD_SECRET_ID/KEY: those are the FaceID
	// provider's key, which may itself be a tckms: reference, and which
	// should not also be allowed to read every secret.
	ExplicitCredentials = [3]string{"IDV_SECRETS_TENCENT_SECRET_ID", "IDV_SECRETS_TENCENT_SECRET_KEY", "IDV_SECRETS_TENCENT_SESSION_TOKEN"}
	// RoleCredentials are the temporary credentials SCF injects for the
	// function's execution role.
	RoleCredentials = [3]string{"TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"}
	// OperatorCredentials are tccli's variables, accepted by the operator
	// command only (see Options.Sources).
	OperatorCredentials = [3]string{"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN"}
)

// Credential is a common.CredentialIface that reads its values through
// getenv on every call. SCF rotates role credentials under a running
// instance; reading them at each request (each refresh) instead of once at
// start is what keeps a long-lived instance signing with valid ones. The
// SDK calls GetCredential once per request, so id, key and token always
// come from the same read.
type Credential struct {
	Getenv  func(string) string
	Sources [][3]string
}

var _ common.CredentialIface = (*Credential)(nil)

// NewCredential reads the explicit pair, else the SCF role credentials.
func NewCredential(getenv func(string) string) *Credential {
	return &Credential{Getenv: getenv, Sources: [][3]string{ExplicitCredentials, RoleCredentials}}
}

// GetCredential returns secret id, secret key and session token ("" if none).
func (c *Credential) GetCredential() (string, string, string) {
	for _, s := range c.Sources {
		id, key := strings.TrimSpace(c.Getenv(s[0])), strings.TrimSpace(c.Getenv(s[1]))
		if id != "" && key != "" {
			return id, key, strings.TrimSpace(c.Getenv(s[2]))
		}
	}
	return "", "", ""
}

// Available reports whether any source has an id and a key.
func (c *Credential) Available() bool {
	id, _, _ := c.GetCredential()
	return id != ""
}

func (c *Credential) GetSecretId() string  { id, _, _ := c.GetCredential(); return id }
func (c *Credential) GetSecretKey() string { _, k, _ := c.GetCredential(); return k }
func (c *Credential) GetToken() string     { _, _, t := c.GetCredential(); return t }
