package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
)

func numCPU() int { return runtime.GOMAXPROCS(0) }

// maxBulk bounds one string answer (Redis's own limit is 512 MB; the
// stores here keep records of a few hundred kilobytes at most).
const maxBulk = 64 << 20

// maxArray bounds the elements of one array answer.
const maxArray = 1 << 20

// writeCommand writes args as a RESP array of bulk strings.
func writeCommand(w *bufio.Writer, args []any) error {
	var num [24]byte
	w.WriteByte('*')
	w.Write(strconv.AppendInt(num[:0], int64(len(args)), 10))
	w.WriteString("\r\n")
	for _, a := range args {
		var s []byte
		switch v := a.(type) {
		case string:
			writeBulkString(w, v)
			continue
		case []byte:
			s = v
		case int:
			s = strconv.AppendInt(num[:0], int64(v), 10)
		case int64:
			s = strconv.AppendInt(num[:0], v, 10)
		case int32:
			s = strconv.AppendInt(num[:0], int64(v), 10)
		case uint64:
			s = strconv.AppendUint(num[:0], v, 10)
		case float64:
			s = strconv.AppendFloat(num[:0], v, 'f', -1, 64)
		case bool:
			if v {
				s = append(num[:0], '1')
			} else {
				s = append(num[:0], '0')
			}
		default:
			return fmt.Errorf("resp: cannot send an argument of type %T", a)
		}
		w.WriteByte('$')
		w.Write(strconv.AppendInt(make([]byte, 0, 20), int64(len(s)), 10))
		w.WriteString("\r\n")
		w.Write(s)
		w.WriteString("\r\n")
	}
	return nil
}

func writeBulkString(w *bufio.Writer, s string) {
	var num [20]byte
	w.WriteByte('$')
	w.Write(strconv.AppendInt(num[:0], int64(len(s)), 10))
	w.WriteString("\r\n")
	w.WriteString(s)
	w.WriteString("\r\n")
}

var errProtocol = errors.New("resp: malformed answer")

// readLine reads one CRLF-terminated line without the CRLF.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, errProtocol
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, errProtocol
	}
	return line[:len(line)-2], nil
}

// readValue reads one RESP2 value. Error answers are values (their err
// set), not errors: the connection stays usable.
func readValue(r *bufio.Reader) (Value, error) {
	line, err := readLine(r)
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, errProtocol
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '+':
		return Value{kind: kind, str: append([]byte(nil), rest...)}, nil
	case '-':
		return Value{kind: kind, err: Error(rest)}, nil
	case ':':
		n, err := strconv.ParseInt(string(rest), 10, 64)
		if err != nil {
			return Value{}, errProtocol
		}
		return Value{kind: kind, n: n}, nil
	case '$':
		n, err := strconv.ParseInt(string(rest), 10, 64)
		if err != nil || n < -1 || n > maxBulk {
			return Value{}, errProtocol
		}
		if n == -1 {
			return Value{kind: kind, null: true}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Value{}, errProtocol
		}
		return Value{kind: kind, str: buf[:n:n]}, nil
	case '*':
		n, err := strconv.ParseInt(string(rest), 10, 64)
		if err != nil || n < -1 || n > maxArray {
			return Value{}, errProtocol
		}
		if n == -1 {
			return Value{kind: kind, null: true}, nil
		}
		arr := make([]Value, n)
		for i := range arr {
			if arr[i], err = readValue(r); err != nil {
				return Value{}, err
			}
		}
		return Value{kind: kind, arr: arr}, nil
	}
	return Value{}, errProtocol
}
