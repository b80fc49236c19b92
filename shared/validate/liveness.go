package validate

// LivenessType checks the LivenessType of the liveness actions (Liveness,
// LivenessRecognition, LivenessCompare): one of the three modes FaceID
// documents, "取值：LIP/ACTION/SILENT", written exactly so.
func LivenessType(s string) error {
	switch s {
	case "LIP", "ACTION", "SILENT":
		return nil
	}
	return broken("must be LIP, ACTION or SILENT")
}

// ValidateData checks the ValidateData that goes with a LivenessType. FaceID
// documents it per mode: LIP (数字模式) takes the digit code GetLiveCode
// issued, "数字验证码(1234)"; ACTION (动作模式) takes the action order
// GetActionSequence issued, "动作顺序(2,1 or 1,2)", where 1 is 张嘴 and 2
// is 闭眼; SILENT (静默模式) "不需要传递此参数", so whatever is sent is not
// checked. Without the code or the order Tencent cannot check the video
// against what the user was asked to do, so for LIP and ACTION it is
// required. An unknown livenessType is LivenessType's error, not this one's.
func ValidateData(livenessType, s string) error {
	switch livenessType {
	case "LIP":
		if s == "" {
			return broken("is required when LivenessType is LIP (the 4-digit code from GetLiveCode)")
		}
		if len(s) != 4 || !allDigits(s) {
			return broken("must be the 4-digit code from GetLiveCode when LivenessType is LIP")
		}
	case "ACTION":
		if s == "" {
			return broken("is required when LivenessType is ACTION (the action order from GetActionSequence)")
		}
		if !actionOrder(s) {
			return broken(`must be the action order from GetActionSequence when LivenessType is ACTION: actions 1 (open mouth) and 2 (close eyes) separated by commas, such as "1,2"`)
		}
	}
	return nil
}

// actionOrder reports whether s is a comma-separated list of the action
// codes 1 and 2, such as "2,1", of at most 10 actions.
func actionOrder(s string) bool {
	if len(s) == 0 || len(s) > 19 || len(s)%2 == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i%2 == 0 && c != '1' && c != '2' || i%2 == 1 && c != ',' {
			return false
		}
	}
	return true
}
