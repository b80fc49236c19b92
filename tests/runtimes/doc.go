// Package runtimes drives function binaries the way each platform does, over
// loopback only: a Lambda Runtime API emulator, an SCF Custom Runtime API
// emulator, an SCF Go1 gob-RPC client, and plain HTTP for SCF Web functions
// and the local server. The emulators are ordinary Go types so tests of the
// real function binaries can reuse them:
//
//	bin := runtimes.Build(t, "./functions/id-card-verification")
//	fn := runtimes.StartLambda(t, bin, "SOME_CONFIG=x")       // or StartSCFCustom, StartGo1
//	out, err := fn.Invoke(ctx, payload, 3*time.Second)        // every Target has Invoke
//	web := runtimes.StartWeb(t, bin)                           // or StartLocal: an *HTTPTarget
//	resp, err := http.Post(web.URL+"/v1/faceid/...", ...)
//
// Each Start function builds nothing: it starts the binary with a clean
// environment plus the protocol's variables plus env, waits until the
// binary is serving, records the cold start, and stops the process when the
// test ends.
package runtimes
