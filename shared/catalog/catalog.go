// Package catalog describes the functions that are not FaceID actions (the
// seed-002 enhanced face pair, the Baidu faceprint endpoints), so the code
// generator can write their mains and deploy entries from one list, exactly
// as it does for the FaceID registry.
package catalog

// Function is one deployable function.
type Function struct {
	// Name is the folder under functions/ and the deployed function's name
	// suffix, kebab case: "face-adv".
	Name string
	// Action is the pipeline's name of what it serves ("faceAdv",
	// "faceprint/verifyToken/generate").
	Action string
	// Import is the package whose Main the function's main calls, and Call
	// the call itself: `faceadv.Main("faceAdv")`.
	Import, Call string
	// Path is the HTTP route (POST): "/tech/ai/face/faceAdv".
	Path string
	// Description is one line for the README and the deploy files.
	Description string
	// Env names the configuration variables the deploy files must set for
	// this function (secret ones as references), beyond the common ones.
	Env []EnvVar
	// TimeoutSeconds is the platform timeout to deploy with (0: default).
	TimeoutSeconds int
	// Async marks a function that invokes itself asynchronously (it needs
	// permission to invoke itself).
	Async bool
}

// EnvVar is a configuration variable of a function.
type EnvVar struct {
	Name string
	// Secret variables hold keys: deploy files set them from a secret
	// reference parameter, never a plain value.
	Secret bool
	// Example is a placeholder shown in docs (a reference for secrets).
	Example string
}
