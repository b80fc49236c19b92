package scfgo1

// Wire messages of the SCF Go1 runtime (scf-go-lib cloudfunction/messages,
// a fork of aws-lambda-go's go1.x messages with Tencent fields). gob matches
// struct fields by name, so the field names and types below are the
// protocol; the type names and json tags are not on the wire. Names follow
// the protocol, hence the underscores and "Id".

// PingRequest is the argument of Function.Ping.
type PingRequest struct{}

// PingResponse is the reply of Function.Ping.
type PingResponse struct{}

// InvokeRequest_Timestamp is the invocation deadline in Unix time.
type InvokeRequest_Timestamp struct {
	Seconds int64
	Nanos   int64
}

// InvokeRequest is the argument of Function.Invoke.
type InvokeRequest struct {
	Payload               []byte
	RequestId             string
	TraceId               string
	Deadline              InvokeRequest_Timestamp
	InvokedFunctionUnique string
	ClientContext         []byte
	Namespace             string
	FunctionName          string
	FunctionVersion       string
	MemoryLimitInMb       int32
	TimeLimitInMs         int32
	Environment           string // JSON object of string values
	TencentcloudRegion    string
	TencentcloudAppID     string
	TencentcloudUin       string
	FunctionTrace         string
}

// InvokeResponse is the reply of Function.Invoke. Errors travel in Error;
// the RPC call itself succeeds.
type InvokeResponse struct {
	Payload []byte
	Error   *InvokeResponse_Error
}

// InvokeResponse_Error is a failed invocation.
type InvokeResponse_Error struct {
	Message    string
	Type       string
	StackTrace []*InvokeResponse_Error_StackFrame
	ShouldExit bool
}

// InvokeResponse_Error_StackFrame is one frame of a panic's stack.
type InvokeResponse_Error_StackFrame struct {
	Path  string
	Line  int32
	Label string
}
