package precheck

// Encryptable lists the request fields action takes encrypted in field
// mode (its Encryption object's EncryptList), in the order the spec names
// them; nil when it takes none. The caller must not modify the slice.
func Encryptable(action string) []string { return encryptable[action] }
