package runtimes

import (
	"context"
	"time"
)

// Target is a started function that takes invocations the way one platform
// delivers them. timeout is the invocation's time limit as the platform
// announces it (deadline header, Time_Limit_In_Ms, RPC Deadline).
type Target interface {
	Invoke(ctx context.Context, payload []byte, timeout time.Duration) (*Outcome, error)
	// ColdStart is the time from process start until the binary was ready
	// to take an invocation (first next request, first Ping answered).
	ColdStart() time.Duration
}

// Outcome is one invocation's result as the platform saw it.
type Outcome struct {
	RequestID string        // the id the platform assigned the invocation
	Deadline  time.Time     // the deadline the platform announced (zero: none)
	Payload   []byte        // the response payload on success
	Failure   *Failure      // set when the function reported an error
	Elapsed   time.Duration // from handing out the event to receiving the result
}

// Failure is a reported function error, normalised across platforms.
type Failure struct {
	Type    string // errorType / Error.Type
	Message string // errorMessage / Error.Message
	// Raw is the error as it crossed the wire (the error body for HTTP
	// runtime APIs, empty for RPC).
	Raw []byte
	// Header is the Lambda-Runtime-Function-Error-Type header or trailer
	// (Lambda only; aws-lambda-go sends it only when reading the response
	// failed, so Type from the body is what Lambda reports).
	Header string
	// ShouldExit is the RPC protocol's flag (Go1 only).
	ShouldExit bool
}
