package validate

// RuleError is the only error type this package returns. Rule is a short
// English phrase naming the broken rule, written to follow a field name
// ("IdCard " + "must be 18 characters"). It never contains the input, so a
// caller may log it or show it to an end user without leaking personal data.
type RuleError struct {
	Rule string
}

func (e *RuleError) Error() string { return e.Rule }

// broken keeps call sites short; every failure path goes through it so that
// no message can be built from the input by accident.
func broken(rule string) error { return &RuleError{Rule: rule} }
