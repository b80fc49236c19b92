package event

import (
	"strings"
	"testing"

	"github.com/idverify/idverify/shared/errs"
)

func TestTimerPayload(t *testing.T) {
	cases := []struct {
		name, payload string
		timer         bool
		direct        string // the argument, when it is one
		errHas        string // a refused timer: what the error says
	}{
		{"sweep", `{"Type":"Timer","TriggerName":"flows-sweep","Time":"2026-12-02T05:26:00Z","Message":"{\"Action\":\"flows/sweep\"}"}`,
			true, `{"Action":"flows/sweep"}`, ""},
		// Tencent's documentation writes the type in lower case.
		{"lower-case type", `{"Type":"timer","TriggerName":"t","Time":"x","Message":" {\"Action\":\"flows/sweep\",\"N\":1} "}`,
			true, `{"Action":"flows/sweep","N":1}`, ""},
		{"no argument", `{"Type":"Timer","TriggerName":"oneminute","Time":"2019-08-17T05:26:00Z","Message":""}`,
			true, "", `timer trigger "oneminute" has no argument`},
		{"argument not JSON", `{"Type":"Timer","TriggerName":"t","Time":"x","Message":"flows/sweep"}`,
			true, "", "not a JSON object"},
		{"argument a JSON array", `{"Type":"Timer","TriggerName":"t","Time":"x","Message":"[{\"Action\":\"flows/sweep\"}]"}`,
			true, "", "not a JSON object"},
		{"argument truncated", `{"Type":"Timer","TriggerName":"t","Time":"x","Message":"{\"Action\":"}`,
			true, "", "not a JSON object"},
		{"message not a string", `{"Type":"Timer","TriggerName":"t","Time":"x","Message":{"Action":"flows/sweep"}}`,
			true, "", "Message is not a string"},
		{"argument too long", `{"Type":"Timer","TriggerName":"t","Time":"x","Message":"{\"A\":\"` + strings.Repeat("x", TimerArgumentMax) + `\"}"}`,
			true, "", "over 8192"},
		// Not timers: left alone.
		{"faceid request", `{"IdCard":"110101199003074477","Name":"张三"}`, false, "", ""},
		{"a request with a Type", `{"Type":"Timer","Message":"{}"}`, false, "", ""},
		{"keys in another case", `{"type":"Timer","triggerName":"t","time":"x","message":"{}"}`, false, "", ""},
		{"another type", `{"Type":"Cos","TriggerName":"t","Time":"x","Message":"{}"}`, false, "", ""},
		{"not an object", `[1]`, false, "", ""},
		{"an HTTP event", `{"Type":"Timer","TriggerName":"t","Time":"x","Message":"{}","httpMethod":"GET","path":"/","headers":{}}`, false, "", ""},
		{"not JSON", `Type=Timer`, false, "", ""},
	}
	for _, c := range cases {
		direct, timer, err := TimerPayload([]byte(c.payload))
		if timer != c.timer {
			t.Errorf("%s: timer %v, want %v", c.name, timer, c.timer)
			continue
		}
		if c.errHas == "" {
			if err != nil || string(direct) != c.direct {
				t.Errorf("%s: %q, %v; want %q", c.name, direct, err, c.direct)
			}
			continue
		}
		if err == nil || direct != nil || !strings.Contains(err.Error(), c.errHas) {
			t.Errorf("%s: %q, %v; want an error saying %q", c.name, direct, err, c.errHas)
			continue
		}
		if k := errs.KindOf(err); k != errs.Invalid {
			t.Errorf("%s: error kind %v, want Invalid", c.name, k)
		}
	}
}
