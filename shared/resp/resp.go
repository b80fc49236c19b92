// Package resp is a small Redis client: RESP2 over one pooled TCP (or TLS)
// connection per command, for the few commands the functions' shared store
// uses (GET, SET with PX/NX, EVALSHA/EVAL, MULTI/EXEC, ZADD, ZRANGE, ZREM,
// PING). It replaces go-redis in the deployed binaries, where go-redis cost
// about 1.2 MiB of every function whether or not a store was configured
// (IDV_REDIS_URL is a deploy-time setting, so a build tag cannot decide).
//
// Behaviour the stores rely on, as configured by shared/app: a command
// fails fast (dial, read and write timeouts, the context's deadline), a
// connection that failed is never reused, and a command whose request could
// not be written on a pooled connection that went stale is retried once on
// a fresh one (nothing reached the server, so nothing runs twice). A
// command whose answer did not come is not retried: it may have run.
//
// Tests run it against a real redis-server (tests/redistest) and check what
// it wrote with go-redis, an independent client.
package resp

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Nil is the error of a command whose answer is a nil (GET of a missing
// key). errors.Is(err, Nil) finds it.
var Nil = errors.New("redis: nil")

// Error is an error answer from the server ("-ERR ...", "-NOSCRIPT ...").
type Error string

func (e Error) Error() string { return string(e) }

// Options configure a Client. Zero timeouts are the defaults below.
type Options struct {
	Addr     string // host:port
	Username string
	Password string
	DB       int
	// TLS, when set, is the TLS configuration (rediss://).
	TLS *tls.Config

	DialTimeout  time.Duration // default 5s
	ReadTimeout  time.Duration // default 3s
	WriteTimeout time.Duration // default ReadTimeout
	// PoolSize bounds the open connections; a command waits for one (as
	// long as its context allows). Default 10 per CPU, as go-redis.
	PoolSize int
	// MaxRetries is how many times a command whose request could not be
	// written on a stale pooled connection is sent again on a new one.
	// Default 1; -1 for none.
	MaxRetries int
}

// ParseURL reads redis://[user:password@]host[:port][/db] and rediss://
// (TLS). Query parameters are refused: a setting this client would ignore
// must not pass silently.
func ParseURL(raw string) (*Options, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("resp: not a URL")
	}
	o := &Options{}
	switch u.Scheme {
	case "redis":
	case "rediss":
		o.TLS = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: u.Hostname()}
	default:
		return nil, errors.New("resp: the scheme must be redis or rediss")
	}
	if u.RawQuery != "" || u.Opaque != "" {
		return nil, errors.New("resp: query parameters are not supported")
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "localhost"
	}
	if port == "" {
		port = "6379"
	}
	o.Addr = net.JoinHostPort(host, port)
	if u.User != nil {
		o.Username = u.User.Username()
		if p, ok := u.User.Password(); ok {
			o.Password = p
		} else {
			// redis://password@host is the old form: one name is the password.
			o.Username, o.Password = "", o.Username
		}
	}
	if p := strings.Trim(u.Path, "/"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, errors.New("resp: the path must be a database number")
		}
		o.DB = n
	}
	return o, nil
}

// Client is a pool of connections to one Redis server. It is safe for
// concurrent use.
type Client struct {
	opt  Options
	sem  chan struct{} // one token per open connection
	mu   sync.Mutex
	idle []*conn
	done bool
}

// NewClient returns a client for o. It does no I/O.
func NewClient(o *Options) *Client {
	opt := *o
	if opt.DialTimeout == 0 {
		opt.DialTimeout = 5 * time.Second
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = 3 * time.Second
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = opt.ReadTimeout
	}
	if opt.PoolSize <= 0 {
		opt.PoolSize = 10 * numCPU()
	}
	switch {
	case opt.MaxRetries == 0:
		opt.MaxRetries = 1
	case opt.MaxRetries < 0:
		opt.MaxRetries = 0
	}
	return &Client{opt: opt, sem: make(chan struct{}, opt.PoolSize)}
}

// Options returns the client's options (defaults applied).
func (c *Client) Options() Options { return c.opt }

// Close closes the idle connections; commands after it fail.
func (c *Client) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.done = nil, true
	c.mu.Unlock()
	for _, cn := range idle {
		_ = cn.nc.Close()
	}
	return nil
}

var errClosed = errors.New("resp: client is closed")

type conn struct {
	spent bool // not to be reused
	nc    net.Conn
	br    *bufio.Reader
	bw    *bufio.Writer
}

// get takes a pooled connection or dials one; reused says which.
func (c *Client) get(ctx context.Context) (cn *conn, reused bool, err error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		<-c.sem
		return nil, false, errClosed
	}
	for n := len(c.idle); n > 0; n = len(c.idle) {
		cn = c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		// A connection the server closed while it sat in the pool (idle
		// timeout, restart, failover) is dropped here, before a request
		// is written into it.
		if alive(cn.nc) && cn.br.Buffered() == 0 {
			return cn, true, nil
		}
		_ = cn.nc.Close()
		c.mu.Lock()
	}
	c.mu.Unlock()
	cn, err = c.dial(ctx)
	if err != nil {
		<-c.sem
		return nil, false, err
	}
	return cn, false, nil
}

// put returns cn to the pool, or closes it when it failed.
func (c *Client) put(cn *conn, failed bool) {
	c.mu.Lock()
	if failed || c.done || cn.spent {
		c.mu.Unlock()
		_ = cn.nc.Close()
	} else {
		c.idle = append(c.idle, cn)
		c.mu.Unlock()
	}
	<-c.sem
}

func (c *Client) dial(ctx context.Context) (*conn, error) {
	dctx, cancel := context.WithTimeout(ctx, c.opt.DialTimeout)
	defer cancel()
	var nc net.Conn
	var err error
	if c.opt.TLS != nil {
		d := tls.Dialer{Config: c.opt.TLS}
		nc, err = d.DialContext(dctx, "tcp", c.opt.Addr)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(dctx, "tcp", c.opt.Addr)
	}
	if err != nil {
		return nil, err
	}
	cn := &conn{nc: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}
	var hello [][]any
	if c.opt.Password != "" {
		if c.opt.Username != "" {
			hello = append(hello, []any{"AUTH", c.opt.Username, c.opt.Password})
		} else {
			hello = append(hello, []any{"AUTH", c.opt.Password})
		}
	}
	if c.opt.DB != 0 {
		hello = append(hello, []any{"SELECT", c.opt.DB})
	}
	if len(hello) > 0 {
		vs, err := c.roundTrip(dctx, cn, hello)
		if err == nil {
			for _, v := range vs {
				if v.err != nil {
					err = v.err
					break
				}
			}
		}
		if err != nil {
			_ = nc.Close()
			return nil, err
		}
	}
	return cn, nil
}

// roundTrip writes cmds and reads one answer each, under the context's
// deadline and the client's timeouts. An error here means cn is unusable;
// error answers are in the values.
func (c *Client) roundTrip(ctx context.Context, cn *conn, cmds [][]any) ([]Value, error) {
	stop := context.AfterFunc(ctx, func() { _ = cn.nc.SetDeadline(time.Unix(1, 0)) })
	vs, err := c.exchange(ctx, cn, cmds)
	if !stop() && err == nil {
		// The context ended as the answer came: its deadline may have
		// been set on cn after the exchange, so cn is not pooled.
		cn.spent = true
	}
	return vs, err
}

func (c *Client) exchange(ctx context.Context, cn *conn, cmds [][]any) ([]Value, error) {
	_ = cn.nc.SetWriteDeadline(c.deadline(ctx, c.opt.WriteTimeout))
	for _, cmd := range cmds {
		if err := writeCommand(cn.bw, cmd); err != nil {
			return nil, err // nothing sent: the buffer is discarded with cn
		}
	}
	if err := cn.bw.Flush(); err != nil {
		return nil, &writeError{ctxErr(ctx, err)}
	}
	_ = cn.nc.SetReadDeadline(c.deadline(ctx, c.opt.ReadTimeout))
	out := make([]Value, len(cmds))
	for i := range cmds {
		v, err := readValue(cn.br)
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		out[i] = v
	}
	return out, nil
}

// writeError is a failure to send a request: nothing reached the server.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// ctxErr says a failure was the context's when it was: its deadline is
// also the connection's, which may expire a moment before the context's
// own timer fires.
func ctxErr(ctx context.Context, err error) error {
	if e := ctx.Err(); e != nil {
		return fmt.Errorf("%w (%v)", e, err)
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return err
}

func (c *Client) deadline(ctx context.Context, d time.Duration) time.Time {
	t := time.Now().Add(d)
	if dl, ok := ctx.Deadline(); ok && dl.Before(t) {
		return dl
	}
	return t
}

// do runs cmds as one round trip on one connection.
func (c *Client) do(ctx context.Context, cmds [][]any) ([]Value, error) {
	for attempt := 0; ; attempt++ {
		cn, reused, err := c.get(ctx)
		if err != nil {
			return nil, err
		}
		vs, err := c.roundTrip(ctx, cn, cmds)
		c.put(cn, err != nil)
		if err == nil {
			return vs, nil
		}
		var we *writeError
		if !reused || !errors.As(err, &we) || attempt >= c.opt.MaxRetries || ctx.Err() != nil {
			return nil, err
		}
	}
}

// Do sends one command and returns its answer.
func (c *Client) Do(ctx context.Context, args ...any) *Cmd {
	vs, err := c.do(ctx, [][]any{args})
	if err != nil {
		return &Cmd{err: err}
	}
	return vs[0].cmd()
}

// Ping checks the server answers.
func (c *Client) Ping(ctx context.Context) *Cmd { return c.Do(ctx, "PING") }

// Get is GET key; a missing key is Nil.
func (c *Client) Get(ctx context.Context, key string) *Cmd { return c.Do(ctx, "GET", key) }

// Set is SET key value [PX ttl].
func (c *Client) Set(ctx context.Context, key string, value any, ttl time.Duration) *Cmd {
	if ttl > 0 {
		return c.Do(ctx, "SET", key, value, "PX", ms(ttl))
	}
	return c.Do(ctx, "SET", key, value)
}

// SetNX is SET key value NX [PX ttl]; Bool says whether it was set.
func (c *Client) SetNX(ctx context.Context, key string, value any, ttl time.Duration) *Cmd {
	var cmd *Cmd
	if ttl > 0 {
		cmd = c.Do(ctx, "SET", key, value, "NX", "PX", ms(ttl))
	} else {
		cmd = c.Do(ctx, "SET", key, value, "NX")
	}
	if errors.Is(cmd.err, Nil) {
		return &Cmd{v: Value{kind: ':', n: 0}}
	}
	if cmd.err == nil {
		return &Cmd{v: Value{kind: ':', n: 1}}
	}
	return cmd
}

// ZRange is ZRANGE key start stop.
func (c *Client) ZRange(ctx context.Context, key string, start, stop int64) *Cmd {
	return c.Do(ctx, "ZRANGE", key, start, stop)
}

// ZRem is ZREM key member...
func (c *Client) ZRem(ctx context.Context, key string, members ...any) *Cmd {
	return c.Do(ctx, append([]any{"ZREM", key}, members...)...)
}

// Tx runs cmds atomically (MULTI ... EXEC) in one round trip and returns
// their answers. An error answer to any of them is the error.
func (c *Client) Tx(ctx context.Context, cmds ...[]any) ([]Value, error) {
	all := make([][]any, 0, len(cmds)+2)
	all = append(all, []any{"MULTI"})
	all = append(all, cmds...)
	all = append(all, []any{"EXEC"})
	vs, err := c.do(ctx, all)
	if err != nil {
		return nil, err
	}
	for _, v := range vs[:len(vs)-1] { // MULTI's OK, then QUEUED each
		if v.err != nil {
			return nil, v.err
		}
	}
	exec := vs[len(vs)-1]
	if exec.err != nil {
		return nil, exec.err
	}
	if exec.null {
		return nil, errors.New("resp: transaction aborted")
	}
	for _, v := range exec.arr {
		if v.err != nil {
			return exec.arr, v.err
		}
	}
	return exec.arr, nil
}

func ms(d time.Duration) int64 {
	if n := d.Milliseconds(); n > 0 {
		return n
	}
	return 1
}

// Script is a Lua script run with EVALSHA, loaded with EVAL when the
// server does not have it.
type Script struct {
	src string
	// sha is the script's SHA-1, hashed on first use: scripts are package
	// variables of every function, most of which run without Redis, and
	// hashing them all at init cost each cold start.
	once sync.Once
	sha  string
}

// NewScript makes a Script of src.
func NewScript(src string) *Script { return &Script{src: src} }

func (s *Script) hash() string {
	s.once.Do(func() {
		sum := sha1.Sum([]byte(s.src))
		s.sha = hex.EncodeToString(sum[:])
	})
	return s.sha
}

// Run runs the script with keys and args.
func (s *Script) Run(ctx context.Context, c *Client, keys []string, args ...any) *Cmd {
	a := make([]any, 0, 3+len(keys)+len(args))
	a = append(a, "EVALSHA", s.hash(), len(keys))
	for _, k := range keys {
		a = append(a, k)
	}
	a = append(a, args...)
	cmd := c.Do(ctx, a...)
	var e Error
	if errors.As(cmd.err, &e) && strings.HasPrefix(string(e), "NOSCRIPT") {
		a[0], a[1] = "EVAL", s.src
		cmd = c.Do(ctx, a...)
	}
	return cmd
}

// Value is one RESP2 answer.
type Value struct {
	kind byte // '+', '-', ':', '$', '*'
	str  []byte
	n    int64
	arr  []Value
	null bool
	err  error // an error answer
}

func (v Value) cmd() *Cmd {
	switch {
	case v.err != nil:
		return &Cmd{err: v.err}
	case v.null:
		return &Cmd{err: Nil}
	}
	return &Cmd{v: v}
}

// Cmd is a command's answer, or its error.
type Cmd struct {
	v   Value
	err error
}

// Err is the command's error: Nil for a nil answer, an Error for an error
// answer, or what went wrong on the way.
func (c *Cmd) Err() error { return c.err }

// Bytes is a string answer.
func (c *Cmd) Bytes() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	switch c.v.kind {
	case '+', '$':
		return c.v.str, nil
	case ':':
		return strconv.AppendInt(nil, c.v.n, 10), nil
	}
	return nil, fmt.Errorf("resp: answer of type %q is not a string", c.v.kind)
}

// Text is a string answer as a string.
func (c *Cmd) Text() (string, error) {
	b, err := c.Bytes()
	return string(b), err
}

// Int is an integer answer (or a string holding one).
func (c *Cmd) Int() (int, error) {
	n, err := c.Int64()
	return int(n), err
}

// Int64 is an integer answer (or a string holding one).
func (c *Cmd) Int64() (int64, error) {
	if c.err != nil {
		return 0, c.err
	}
	return c.v.int64()
}

// Bool is an integer answer as a boolean (1 is true).
func (c *Cmd) Bool() (bool, error) {
	n, err := c.Int64()
	return n == 1, err
}

// Int64Slice is an array answer of integers.
func (c *Cmd) Int64Slice() ([]int64, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.v.kind != '*' {
		return nil, fmt.Errorf("resp: answer of type %q is not an array", c.v.kind)
	}
	out := make([]int64, len(c.v.arr))
	for i, e := range c.v.arr {
		n, err := e.int64()
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// StringSlice is an array answer of strings (nil elements are "").
func (c *Cmd) StringSlice() ([]string, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.v.kind != '*' {
		return nil, fmt.Errorf("resp: answer of type %q is not an array", c.v.kind)
	}
	out := make([]string, len(c.v.arr))
	for i, e := range c.v.arr {
		switch {
		case e.err != nil:
			return nil, e.err
		case e.kind == ':':
			out[i] = strconv.FormatInt(e.n, 10)
		case e.kind == '*':
			return nil, errors.New("resp: nested array in a string list")
		default:
			out[i] = string(e.str)
		}
	}
	return out, nil
}

func (v Value) int64() (int64, error) {
	switch v.kind {
	case ':':
		return v.n, nil
	case '+', '$':
		if !v.null {
			return strconv.ParseInt(string(v.str), 10, 64)
		}
	}
	return 0, fmt.Errorf("resp: answer of type %q is not an integer", v.kind)
}
