//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package main

// readHidden is nil where echo cannot be turned off: the command then asks
// for the value to be piped in instead of typed.
var readHidden func() ([]byte, error)
