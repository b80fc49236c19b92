package faceprint

import (
	"fmt"

	"github.com/idverify/idverify/shared/catalog"
)

// Endpoint is one of the eight faceprint endpoints.
type Endpoint struct {
	// Path is what follows /rpc/2.0/brain/solution/faceprint/.
	Path string
	// Function is the deployed function's folder and name.
	Function    string
	Description string
	check       func(m members) error
}

// Action is the caller-auth action name of the endpoint.
func (e Endpoint) Action() string { return "faceprint/" + e.Path }

// Route is the HTTP path the endpoint is served at.
func (e Endpoint) Route() string { return Prefix + e.Path }

// Prefix is Baidu's path prefix, served unchanged so a client switches by
// base URL alone.
const Prefix = "/rpc/2.0/brain/solution/faceprint/"

var endpoints = []Endpoint{
	{"verifyToken/generate", "faceprint-verify-token-generate", "Baidu H5 face real-name: issue a verify_token for a plan (valid 2 hours)", checkGenerate},
	{"idcard/submit", "faceprint-idcard-submit", "Baidu H5 face real-name: submit the name and ID number to verify against", checkSubmit},
	{"uploadMatchImage", "faceprint-upload-match-image", "Baidu H5 face real-name: upload the face image to compare with", checkUpload},
	{"result/simple", "faceprint-result-simple", "Baidu H5 face real-name: the face captured by a finished flow", checkTokenOnly},
	{"result/detail", "faceprint-result-detail", "Baidu H5 face real-name: the verification result with scores", checkTokenOnly},
	{"result/stat", "faceprint-result-stat", "Baidu H5 face real-name: request statistics of a flow", checkTokenOnly},
	{"result/media/query", "faceprint-result-media-query", "Baidu H5 face real-name: the liveness video and images of a flow", checkTokenOnly},
	{"result/getall", "faceprint-result-getall", "Baidu H5 face real-name: every verification of a flow and its billing", checkTokenOnly},
}

// Endpoints lists the eight endpoints in Baidu's documentation order.
func Endpoints() []Endpoint { return append([]Endpoint(nil), endpoints...) }

// Lookup finds an endpoint by path ("result/detail"), action
// ("faceprint/result/detail") or function name.
func Lookup(name string) (Endpoint, bool) {
	for _, e := range endpoints {
		if name == e.Path || name == e.Action() || name == e.Function {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Configuration variables.
const (
	EnvAPIKey    = "BAIDU_API_KEY"
	EnvSecretKey = "BAIDU_SECRET_KEY"
	EnvBaseURL   = "BAIDU_BASE_URL"
)

// Functions describes the eight functions for the code generator.
var Functions = func() []catalog.Function {
	env := []catalog.EnvVar{
		{Name: EnvAPIKey, Secret: true, Example: "tcssm:idverify-baidu?version=v1#api_key"},
		{Name: EnvSecretKey, Secret: true, Example: "tcssm:idverify-baidu?version=v1#secret_key"},
		{Name: EnvBaseURL, Example: "https://aip.baidubce.com"},
		{Name: "IDV_REDIS_URL", Secret: true, Example: "tcssm:idverify-redis?version=v1"},
	}
	out := make([]catalog.Function, 0, len(endpoints))
	for _, e := range endpoints {
		out = append(out, catalog.Function{
			Name:        e.Function,
			Action:      e.Action(),
			Import:      "github.com/idverify/idverify/shared/faceprint",
			Call:        fmt.Sprintf("faceprint.Main(%q)", e.Path),
			Path:        e.Route(),
			Description: e.Description,
			Env:         env,
			// Up to three calls with backoff under Baidu flow control,
			// plus a token fetch.
			TimeoutSeconds: 25, // under the HTTP API integration's 30 s
		})
	}
	return out
}()
