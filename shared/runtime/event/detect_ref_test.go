package event

import (
	"bytes"
	"encoding/json"
)

// detectByMaps is Detect as it was written first, reading the event's
// members by decoding them with encoding/json into maps: the reference
// Detect's one-pass reading must agree with on every payload
// (FuzzFromEvent, TestDetect).
func detectByMaps(payload []byte) Kind {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || payload[0] != '{' {
		return Direct
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return Direct
	}
	var rc map[string]json.RawMessage
	hasRC := isObject(top["requestContext"]) && json.Unmarshal(top["requestContext"], &rc) == nil
	return classify(top, rc, hasRC)
}
