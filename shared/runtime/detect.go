package runtime

import (
	"fmt"
	"strings"
)

// Mode is a runtime protocol.
type Mode string

const (
	ModeLambda    Mode = "lambda"     // AWS Lambda Runtime API (aws-lambda-go)
	ModeSCFCustom Mode = "scf-custom" // SCF Custom Runtime HTTP API
	ModeSCFGo1    Mode = "scf-go1"    // SCF Go1 runtime: net/rpc + gob
	ModeSCFWeb    Mode = "scf-web"    // SCF Web function: HTTP server on 0.0.0.0:9000
	ModeLocal     Mode = "local"      // local HTTP server
)

// Modes lists every mode, in detection order.
func Modes() []Mode { return []Mode{ModeLambda, ModeSCFCustom, ModeSCFGo1, ModeSCFWeb, ModeLocal} }

// Detect chooses the protocol from the environment (getenv is os.Getenv in
// production). Precedence, first match wins:
//
//  1. IDV_RUNTIME=lambda|scf-custom|scf-go1|scf-web|local forces a mode
//     (scf_bootstrap of a Web function sets IDV_RUNTIME=scf-web); any other
//     non-empty value is an error.
//  2. AWS_LAMBDA_RUNTIME_API set → lambda.
//  3. SCF_RUNTIME_API and SCF_RUNTIME_API_PORT set → scf-custom. Only one of
//     the two is an error: the instance is clearly SCF, and guessing another
//     mode would only time out.
//  4. _LAMBDA_SERVER_PORT set → scf-go1. (AWS's go1.x runtime used the same
//     variable; it is retired, and AWS_LAMBDA_RUNTIME_API wins above.)
//  5. TENCENTCLOUD_RUNENV=SCF → scf-web: an SCF instance that offers neither
//     runtime API can only be a Web function, started by scf_bootstrap and
//     expected to listen on port 9000.
//  6. Otherwise → local.
func Detect(getenv func(string) string) (Mode, error) {
	if forced := strings.TrimSpace(getenv("IDV_RUNTIME")); forced != "" {
		for _, m := range Modes() {
			if Mode(forced) == m {
				return m, nil
			}
		}
		return "", fmt.Errorf("IDV_RUNTIME=%q: want one of %v", forced, Modes())
	}
	if getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		return ModeLambda, nil
	}
	api, port := getenv("SCF_RUNTIME_API"), getenv("SCF_RUNTIME_API_PORT")
	switch {
	case api != "" && port != "":
		return ModeSCFCustom, nil
	case api != "" || port != "":
		return "", fmt.Errorf("SCF custom runtime needs both SCF_RUNTIME_API and SCF_RUNTIME_API_PORT")
	}
	if getenv("_LAMBDA_SERVER_PORT") != "" {
		return ModeSCFGo1, nil
	}
	if getenv("TENCENTCLOUD_RUNENV") == "SCF" {
		return ModeSCFWeb, nil
	}
	return ModeLocal, nil
}
