//go:build unix

package resp

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
)

// alive peeks at an idle connection's socket without blocking: nothing to
// read is a live connection; end of file, an error or unexpected bytes
// mean it cannot carry a request. (Under TLS, bytes may be a record the
// server sends unasked, such as a TLS 1.3 session ticket: only end of file
// and errors count there.)
func alive(nc net.Conn) bool {
	isTLS := false
	if tc, ok := nc.(*tls.Conn); ok {
		nc, isTLS = tc.NetConn(), true
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	ok = true
	var buf [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n == 0 && err == nil: // end of file
			ok = false
		case n > 0: // data nobody asked for
			ok = isTLS
		case err != nil && !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EWOULDBLOCK):
			ok = false
		}
		return true
	})
	return ok && err == nil
}
