package resp

import "bufio"

// ReadValueForTest reads one answer from r.
func ReadValueForTest(r *bufio.Reader) (*Value, error) {
	v, err := readValue(r)
	if err != nil {
		return nil, err
	}
	return &v, nil
}
