// Command idvcaller issues credentials for the callers of idverify
// functions and prints the IDV_CALLERS entry that goes with them. Run
// `go run ./scripts/idvcaller help`.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/idverify/idverify/shared/callers"
)

const usage = `idvcaller: issue credentials for idverify callers (IDV_CALLERS).

Usage:
  idvcaller new-key     --id <caller> [--actions A,B|*] [--test] [--rate N [--burst N]] [--encrypt ALG|off]
  idvcaller new-keypair --id <caller> [--actions A,B|*] [--test] [--rate N [--burst N]] [--encrypt ALG|off]
  idvcaller hash        < key.txt
  idvcaller actions

new-key      prints a new random API key (shown once: only its SHA-256 is
             kept) and the IDV_CALLERS entry holding that hash. The caller
             sends "Authorization: Bearer <key>".
new-keypair  prints a new TC3 key pair (SecretId AKID..., SecretKey) for
             Tencent SDKs and tccli, and the IDV_CALLERS entry. Encrypt the
             SecretKey with scripts/idvsecrets and put the reference in the
             entry, or keep IDV_CALLERS itself in a secret store.
hash         reads a key on stdin (one trailing newline dropped) and prints
             its SHA-256, for a key issued elsewhere.
actions      lists the action names --actions accepts.

Flags:
  --id       caller name, shown in logs: letters, digits, '.', '_', '-'
  --actions  comma-separated actions the caller may call; "*" (the default)
             allows every action; "usage" (not in "*") reads GET /v1/usage
  --test     a test caller: always served by the sandbox, even in a live deployment
  --rate     the caller's own limit in requests per second (default: none)
  --burst    requests allowed at once above the rate (default: rate rounded up)
  --encrypt  AES-256-CBC, SM4-GCM or off: encrypt this caller's personal data to
             Tencent on its behalf, overriding IDV_FACEID_ENCRYPT (default: the
             function's setting)

IDV_CALLERS is a JSON array of entries:
  IDV_CALLERS='[{"id":"web",...},{"id":"partner",...}]'
In production (IDV_ENV=production) it must be a secret reference, e.g.
  go run ./scripts/idvsecrets encrypt --cloud tencent --key-id <CMK> --region ap-guangzhou --var IDV_CALLERS < callers.json
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "new-key":
		err = newCredential(args[1:], stdout, stderr, false)
	case "new-keypair":
		err = newCredential(args[1:], stdout, stderr, true)
	case "hash":
		err = hashKey(stdin, stdout)
	case "actions":
		fmt.Fprintln(stdout, strings.Join(callers.KnownActions(), "\n"))
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "idvcaller: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "idvcaller:", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

func newCredential(args []string, stdout, stderr io.Writer, pair bool) error {
	name := "new-key"
	if pair {
		name = "new-keypair"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	id := fs.String("id", "", "caller name")
	actions := fs.String("actions", callers.AllActions, "comma-separated actions, or *")
	test := fs.Bool("test", false, "test caller (always sandbox)")
	rate := fs.Float64("rate", 0, "requests per second")
	burst := fs.Int("burst", 0, "burst")
	encrypt := fs.String("encrypt", "", "AES-256-CBC, SM4-GCM or off")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "idvcaller %s: unexpected argument %q\n", name, fs.Arg(0))
		return errUsage
	}
	if *id == "" {
		fmt.Fprintf(stderr, "idvcaller %s: --id is required\n", name)
		return errUsage
	}
	e := callers.Entry{ID: *id, Test: *test, Encrypt: *encrypt}
	for _, a := range strings.Split(*actions, ",") {
		if a = strings.TrimSpace(a); a != "" {
			e.Actions = append(e.Actions, a)
		}
	}
	if *rate != 0 || *burst != 0 {
		e.Rate = &callers.Rate{PerSecond: *rate, Burst: *burst}
	}

	var key, secretID, secretKey string
	if pair {
		secretID = "AKID" + randomText(32)
		secretKey = randomText(40)
		e.SecretID, e.SecretKey = secretID, secretKey
	} else {
		key = "idvk_" + randomText(43)
		sum := sha256.Sum256([]byte(key))
		e.KeySha256 = hex.EncodeToString(sum[:])
	}
	entry, err := json.Marshal(e)
	if err != nil {
		return err
	}
	// The same checks a function runs at start, so what is printed works.
	if _, err := callers.Parse([]byte("[" + string(entry) + "]")); err != nil {
		msg := err.Error()
		if _, rest, ok := strings.Cut(msg, "): "); ok && strings.HasPrefix(msg, "callers[0] (") {
			msg = rest
		}
		msg = strings.TrimPrefix(msg, "callers[0]: ")
		if strings.Contains(msg, "unknown action") {
			msg += "; `idvcaller actions` lists them"
		}
		return errors.New(msg)
	}

	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if pair {
		fmt.Fprintf(w, "New TC3 key pair for caller %q. The SecretKey is shown once: give it to the caller now.\n\n", *id)
		fmt.Fprintf(w, "  SecretId:  %s\n  SecretKey: %s\n\n", secretID, secretKey)
		fmt.Fprintf(w, "IDV_CALLERS entry (it holds the SecretKey: keep IDV_CALLERS in a secret store, or encrypt\n")
		fmt.Fprintf(w, "the SecretKey and put the reference in place of the value):\n\n  %s\n\n", entry)
		fmt.Fprintf(w, "Encrypt the SecretKey (paste it at the prompt; it is not echoed):\n\n")
		fmt.Fprintf(w, "  go run ./scripts/idvsecrets encrypt --cloud tencent --key-id <CMK id> --region ap-guangzhou --context caller=%s\n", *id)
		fmt.Fprintf(w, "  go run ./scripts/idvsecrets encrypt --cloud aws --key-id alias/idverify --context caller=%s\n\n", *id)
		fmt.Fprintf(w, "The caller uses any Tencent Cloud SDK or tccli with this key pair, service faceid,\n")
		fmt.Fprintf(w, "version 2018-03-01 and the function's URL as endpoint. The Node SDK takes the service from\n")
		fmt.Fprintf(w, "the endpoint's first label, so give it a host name that starts with \"faceid.\".\n")
		return nil
	}
	fmt.Fprintf(w, "New API key for caller %q. It is shown once and only its hash is kept: give it to the caller now.\n\n", *id)
	fmt.Fprintf(w, "  %s\n\n", key)
	fmt.Fprintf(w, "IDV_CALLERS entry (holds only the SHA-256 of the key):\n\n  %s\n\n", entry)
	fmt.Fprintf(w, "The caller sends:  Authorization: Bearer %s\n", key)
	return nil
}

func hashKey(stdin io.Reader, stdout io.Writer) error {
	b, err := io.ReadAll(io.LimitReader(stdin, 1<<16))
	if err != nil {
		return err
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return errors.New("hash: no key on stdin (echo -n \"$KEY\" | idvcaller hash)")
	}
	sum := sha256.Sum256(b)
	fmt.Fprintln(stdout, hex.EncodeToString(sum[:]))
	return nil
}

// randomText is n characters drawn uniformly from [A-Za-z0-9] with
// crypto/rand: about 5.95 bits each, so 43 characters carry over 256 bits.
func randomText(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		_, _ = rand.Read(buf[:]) // documented never to fail
		for _, b := range buf {
			// 248 = 4*62: rejecting the rest keeps the choice uniform.
			if b < 248 && len(out) < n {
				out = append(out, alphabet[b%62])
			}
		}
	}
	return string(out)
}
