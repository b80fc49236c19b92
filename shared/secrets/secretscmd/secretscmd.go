// Package secretscmd is the operator command behind scripts/idvsecrets:
// encrypt a value with AWS KMS or Tencent KMS and print the reference to
// paste into configuration, and check that every reference in an
// environment resolves. It never prints a value: encrypt reads it from
// stdin (never argv, which shows in ps and shell history) and prints only
// the ciphertext reference; check prints names, kinds and error classes.
package secretscmd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/idverify/idverify/shared/secrets"
)

// Usage is the command's help text.
var Usage = `idvsecrets: encrypt secrets for idverify configuration and check references.

Usage:
  idvsecrets encrypt --cloud aws     --key-id <key id|ARN|alias/name> [--region R] [--context k=v]... [--var NAME]
  idvsecrets encrypt --cloud tencent --key-id <CMK id> --region ap-guangzhou [--context k=v]... [--var NAME]
  idvsecrets check [--env-file FILE] [--secret NAME,...] [--production] [--timeout 10s]

encrypt reads the value from stdin, never from the command line, and prints
the reference (awskms:... or tckms:...) to paste into template.yaml,
serverless.yml or a .env file. On a terminal the value is read without echo.
One trailing newline is dropped unless --keep-newline is given. Examples:

  idvsecrets encrypt --cloud aws --key-id alias/idverify --context var=TENCENTCLOUD_SECRET_KEY < key.txt
  pbpaste | idvsecrets encrypt --cloud tencent --key-id <cmk> --region ap-guangzhou --var TENCENTCLOUD_SECRET_KEY

Credentials: AWS uses the SDK's default chain (AWS_PROFILE, AWS_ACCESS_KEY_ID...,
AWS_REGION); Tencent uses IDV_SECRETS_TENCENT_SECRET_ID/_SECRET_KEY, else
TENCENTCLOUD_SECRETID/SECRETKEY/SESSIONTOKEN, else tccli's
TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY. The key needs kms:Encrypt.

check resolves every reference in the environment (or in --env-file, a
KEY=value file) the way a function does at cold start and prints one line
per variable: name, kind, and ok or the error class. Values are never
printed. With --production (or IDV_ENV=production) a plain value in a
secret variable (` + strings.Join(secrets.DefaultSecretVars, ", ") + `, --secret, IDV_SECRET_VARS)
is an error. Exit status: 0 all ok, 1 something failed, 2 usage error.

Reference syntax:
  awskms:<base64>[?region=R][&ctx.K=V...][#json-key]
  awssm:<secret id or ARN>[?version=ID|stage=S][&region=R][#json-key]
  awsssm:<parameter name>[?region=R][#json-key]
  tckms:<base64>[?region=R][&ctx.K=V...][#json-key]
  tcssm:<secret name>?version=ID[&region=R][#json-key]
`

// Command is one invocation's environment; tests fill it with buffers.
type Command struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Getenv and Environ are the process environment (os.Getenv, os.Environ()).
	Getenv  func(string) string
	Environ []string
	// ReadHidden, when set, reads a line from the terminal without echo;
	// it is used when StdinIsTerminal is true.
	ReadHidden      func() ([]byte, error)
	StdinIsTerminal bool
}

// Run runs args (without the program name) and returns the exit status.
func (c *Command) Run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.Stderr, Usage)
		return 2
	}
	switch args[0] {
	case "encrypt":
		return c.encrypt(ctx, args[1:])
	case "check":
		return c.check(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.Stdout, Usage)
		return 0
	}
	fmt.Fprintf(c.Stderr, "idvsecrets: unknown command %q\n\n%s", args[0], Usage)
	return 2
}

// contextFlag collects repeated --context k=v.
type contextFlag map[string]string

func (f contextFlag) String() string { return "" }
func (f contextFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want k=v")
	}
	if _, dup := f[k]; dup {
		return fmt.Errorf("context key %q given twice", k)
	}
	f[k] = v
	return nil
}

// MaxPlaintext is KMS's limit on both clouds.
const MaxPlaintext = 4096

func (c *Command) encrypt(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("encrypt", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, Usage) }
	cloud := fs.String("cloud", "", "aws or tencent")
	keyID := fs.String("key-id", "", "KMS key")
	region := fs.String("region", "", "key region")
	varName := fs.String("var", "", "print NAME=<reference>")
	keepNL := fs.Bool("keep-newline", false, "keep a trailing newline")
	timeout := fs.Duration("timeout", 30*time.Second, "bound for the KMS call")
	ectx := contextFlag{}
	fs.Var(ectx, "context", "encryption context k=v (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		// A stray argument may well be the secret itself: say so without
		// repeating it.
		fmt.Fprintln(c.Stderr, "idvsecrets encrypt: unexpected arguments; the value is read from stdin, never from the command line")
		return 2
	}
	var scheme string
	switch *cloud {
	case "aws":
		scheme = secrets.AWSKMS
	case "tencent":
		scheme = secrets.TCKMS
	default:
		fmt.Fprintln(c.Stderr, "idvsecrets encrypt: --cloud must be aws or tencent")
		return 2
	}
	if *keyID == "" {
		fmt.Fprintln(c.Stderr, "idvsecrets encrypt: --key-id is required")
		return 2
	}
	getenv := operatorEnv(c.Getenv, nil)
	if scheme == secrets.TCKMS && *region == "" && getenv("TENCENTCLOUD_REGION") == "" {
		fmt.Fprintln(c.Stderr, "idvsecrets encrypt: --region is required for tencent (a CMK lives in one region)")
		return 2
	}

	value, err := c.readValue(*keepNL)
	if err != nil {
		fmt.Fprintln(c.Stderr, "idvsecrets encrypt:", err)
		return 1
	}
	defer clear(value)

	enc, err := secrets.NewResolver(getenv).Encrypter(scheme)
	if err != nil {
		fmt.Fprintln(c.Stderr, "idvsecrets encrypt:", err)
		return 1
	}
	cctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var ectxMap map[string]string
	if len(ectx) > 0 {
		ectxMap = ectx
	}
	ref, err := enc.Encrypt(cctx, secrets.EncryptRequest{KeyID: *keyID, Plaintext: value, Region: *region, Context: ectxMap})
	if err != nil {
		var e *secrets.Error
		if errors.As(err, &e) {
			e.Scheme = scheme
		}
		fmt.Fprintln(c.Stderr, "idvsecrets encrypt:", err)
		return 1
	}
	if *varName != "" {
		fmt.Fprintf(c.Stdout, "%s=%s\n", *varName, ref)
	} else {
		fmt.Fprintln(c.Stdout, ref)
	}
	return 0
}

func (c *Command) readValue(keepNL bool) ([]byte, error) {
	var v []byte
	var err error
	if c.StdinIsTerminal {
		if c.ReadHidden == nil {
			return nil, errors.New("stdin is a terminal and cannot be read without echo here: pipe the value in instead")
		}
		fmt.Fprint(c.Stderr, "Value (not echoed), then Enter: ")
		v, err = c.ReadHidden()
		fmt.Fprintln(c.Stderr)
	} else {
		v, err = io.ReadAll(io.LimitReader(c.Stdin, MaxPlaintext+3))
	}
	if err != nil {
		return nil, errors.New("cannot read the value from stdin")
	}
	if !keepNL {
		v = bytes.TrimSuffix(v, []byte("\n"))
		v = bytes.TrimSuffix(v, []byte("\r"))
	}
	switch {
	case len(v) == 0:
		return nil, errors.New("no value on stdin")
	case len(v) > MaxPlaintext:
		return nil, fmt.Errorf("the value is longer than KMS's %d-byte limit: keep it in Secrets Manager (awssm:/tcssm:) instead", MaxPlaintext)
	}
	return v, nil
}

// operatorEnv is the environment the backends see from this command: the
// env file's settings (region, endpoints) over the process's, but
// credentials only from the process (an env file describes a function, and
// its TENCENTCLOUD_SECRET_* are the provider's key, probably references),
// with tccli's variables accepted as the operator's Tencent key.
func operatorEnv(getenv func(string) string, file map[string]string) func(string) string {
	explicit := [3]string{"IDV_SECRETS_TENCENT_SECRET_ID", "IDV_SECRETS_TENCENT_SECRET_KEY", "IDV_SECRETS_TENCENT_SESSION_TOKEN"}
	role := [3]string{"TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"}
	tccli := [3]string{"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_SESSION_TOKEN"}
	useTccli := getenv(explicit[0]) == "" && getenv(role[0]) == "" &&
		getenv(tccli[0]) != "" && !secrets.IsRef(getenv(tccli[0])) && !secrets.IsRef(getenv(tccli[1]))
	return func(k string) string {
		if i := slices.Index(explicit[:], k); i >= 0 {
			if useTccli {
				return getenv(tccli[i])
			}
			return getenv(k)
		}
		if slices.Contains(role[:], k) || slices.Contains(tccli[:], k) {
			return getenv(k)
		}
		if v, ok := file[k]; ok && !secrets.IsRef(v) {
			return v
		}
		return getenv(k)
	}
}

func (c *Command) check(ctx context.Context, args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(c.Stderr)
	fs.Usage = func() { fmt.Fprint(c.Stderr, Usage) }
	envFile := fs.String("env-file", "", "KEY=value file to check instead of the environment")
	secretList := fs.String("secret", "", "comma-separated secret variables")
	production := fs.Bool("production", false, "check as IDV_ENV=production")
	timeout := fs.Duration("timeout", 10*time.Second, "bound for resolving everything")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(c.Stderr, "idvsecrets check: unexpected arguments")
		return 2
	}
	environ := c.Environ
	var file map[string]string
	if *envFile != "" {
		raw, err := os.ReadFile(*envFile)
		if err != nil {
			fmt.Fprintf(c.Stderr, "idvsecrets check: cannot read %s\n", *envFile)
			return 2
		}
		if environ, err = ParseEnvFile(raw); err != nil {
			fmt.Fprintf(c.Stderr, "idvsecrets check: %s: %v\n", *envFile, err)
			return 2
		}
		file = secrets.ParseEnviron(environ)
	}
	getenv := operatorEnv(c.Getenv, file)
	secretVars := slices.Clone(secrets.DefaultSecretVars)
	for _, n := range strings.Split(*secretList, ",") {
		if n = strings.TrimSpace(n); n != "" {
			secretVars = append(secretVars, n)
		}
	}
	statuses, err := secrets.Check(ctx, secrets.Options{
		Environ: environ, Getenv: getenv, Secret: secretVars, Production: *production,
		Timeout: *timeout, Logger: secrets.Discard(),
	})
	if err != nil {
		fmt.Fprintln(c.Stderr, "idvsecrets check:", err)
		return 2
	}
	if len(statuses) == 0 {
		fmt.Fprintln(c.Stderr, "idvsecrets check: no references and no secret variables found")
		return 0
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tKIND\tRESULT")
	failed := 0
	for _, st := range statuses {
		kind := st.Scheme
		if kind == "" {
			kind = "plain"
		}
		result := "ok"
		if st.Scheme == "" && st.Err == nil {
			result = "ok (plain value: refused with IDV_ENV=production)"
		}
		if st.Err != nil {
			failed++
			e := *st.Err
			e.Var, e.Scheme = "", "" // already in the columns
			result = strings.TrimPrefix(e.Error(), "secret: ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st.Var, kind, result)
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(c.Stderr, "idvsecrets check: %d of %d failed\n", failed, len(statuses))
		return 1
	}
	return 0
}

// ParseEnvFile reads a dotenv-style file: KEY=value lines, blank lines and
// # comments, an optional "export " prefix, and values optionally in single
// or double quotes (no escapes, no interpolation). It returns "KEY=value"
// entries. Errors name the line, never its content.
func ParseEnvFile(raw []byte) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("line %d is not KEY=value", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		out = append(out, k+"="+v)
	}
	if err := sc.Err(); err != nil {
		return nil, errors.New("cannot read the file")
	}
	return out, nil
}
