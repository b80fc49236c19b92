package event

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/idverify/idverify/shared/errs"
)

// A Tencent SCF timer trigger invokes its function with
//
//	{"Type":"Timer","TriggerName":"<name>","Time":"2019-08-17T05:26:00Z","Message":"<the trigger's argument>"}
//
// (tencentyun/scf-go-lib events.TimerEvent and its sample; Tencent's own
// documentation writes "Type":"timer", so the type is matched without
// regard to case). The argument is the only part the operator chooses: it
// is the direct invocation the schedule stands for, such as
// {"Action":"flows/sweep"}. An AWS schedule (EventBridge) needs no such
// unwrapping: its Input is the event.

// TimerArgumentMax bounds the argument read from a timer event; a direct
// invocation that a schedule makes is a few members.
const TimerArgumentMax = 8 << 10

// timerEventMax bounds a whole timer event: its argument, escaped inside a
// JSON string (at most six bytes a byte), and the few members around it.
const timerEventMax = 6*TimerArgumentMax + 1<<10

// TimerPayload recognises an SCF timer event and returns its argument, the
// payload of the direct invocation it stands for. timer is false for any
// other payload (left alone). For a timer event whose argument is not a
// JSON object err says so, naming the trigger, and direct is nil: a
// schedule whose argument is wrong must fail loudly rather than invoke the
// function with an empty request.
func TimerPayload(payload []byte) (direct []byte, timer bool, err error) {
	payload = bytes.TrimSpace(payload)
	// Every direct invocation passes here, some of them megabytes of
	// images: a timer event is small and names its trigger, so anything
	// else is let through before it is decoded a second time.
	if len(payload) == 0 || payload[0] != '{' || len(payload) > timerEventMax ||
		!bytes.Contains(payload, []byte(`"TriggerName"`)) || Detect(payload) != Direct {
		return nil, false, nil // an HTTP event is never a timer
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return nil, false, nil
	}
	// Exact keys, as Detect: a direct request that merely has a member
	// called "type" is not a timer.
	if !strings.EqualFold(stringField(top, "Type"), "timer") || !has(top, "TriggerName") || !has(top, "Time") || !has(top, "Message") {
		return nil, false, nil
	}
	name := stringField(top, "TriggerName")
	if len(name) > 64 {
		name = name[:64] + "..."
	}
	var msg string
	if err := json.Unmarshal(top["Message"], &msg); err != nil {
		return nil, true, errs.E(errs.Invalid, "InvalidParameter.TimerMessage",
			"timer trigger %q: Message is not a string (the trigger's argument)", name)
	}
	arg := bytes.TrimSpace([]byte(msg))
	switch {
	case len(arg) == 0:
		return nil, true, errs.E(errs.Invalid, "InvalidParameter.TimerMessage",
			`timer trigger %q has no argument: set it to the JSON object to invoke the function with, such as {"Action":"flows/sweep"}`, name)
	case len(arg) > TimerArgumentMax:
		return nil, true, errs.E(errs.Invalid, "InvalidParameter.TimerMessage",
			"timer trigger %q: the argument is %d bytes, over %d", name, len(arg), TimerArgumentMax)
	case arg[0] != '{' || !json.Valid(arg):
		return nil, true, errs.E(errs.Invalid, "InvalidParameter.TimerMessage",
			`timer trigger %q: the argument is not a JSON object; set it to the object to invoke the function with, such as {"Action":"flows/sweep"}`, name)
	}
	return arg, true, nil
}
