// Command idvusage prints what idverify answered and what was billed, by
// caller, action and day or month, with an estimated cost. Run
// `go run ./scripts/idvusage --help`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/idverify/idverify/shared/callers"
	"github.com/idverify/idverify/shared/resp"
	"github.com/idverify/idverify/shared/secrets"
	_ "github.com/idverify/idverify/shared/secrets/backends"
	"github.com/idverify/idverify/shared/usage"
)

const help = `idvusage: what idverify answered and what was billed.

Usage:
  idvusage [--redis URL | --url BASE [--key KEY]] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
           [--by day|month] [--caller ID] [--action NAME] [--prices JSON] [--json | --csv] [--quiet]

Reads the counts every function keeps in Redis (--redis, default
$IDV_REDIS_URL, which may be a secret reference) or asks a deployment's
GET /v1/usage (--url, with a caller key that has the "usage" permission:
--key or $IDV_USAGE_KEY). One row per period, caller, action and mode
(live or sandbox): calls, charged, free, uncertain (failed after the
provider may have processed it) and the estimated cost of the charged
calls from the price table (--prices, default $IDV_USAGE_PRICES:
{"currency":"CNY","perCall":{"IdCardVerification":0.3,"*":0}}).

Days are China time (UTC+8), as Tencent bills. The range defaults to the
first of this month to today. A text table by default; --json and --csv
for machines. Ranges over 31 days print a progress line on stderr
(--quiet: none).
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("idvusage", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	redisURL := fs.String("redis", "", "")
	base := fs.String("url", "", "")
	key := fs.String("key", "", "")
	from := fs.String("from", "", "")
	to := fs.String("to", "", "")
	by := fs.String("by", "day", "")
	caller := fs.String("caller", "", "")
	action := fs.String("action", "", "")
	pricesFlag := fs.String("prices", "", "")
	asJSON := fs.Bool("json", false, "")
	asCSV := fs.Bool("csv", false, "")
	quiet := fs.Bool("quiet", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, help)
			return 0
		}
		fmt.Fprintf(stderr, "idvusage: %v\n\n%s", err, help)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "idvusage: unexpected argument %q\n\n%s", fs.Arg(0), help)
		return 2
	}
	if *asJSON && *asCSV {
		fmt.Fprintln(stderr, "idvusage: --json and --csv: choose one")
		return 2
	}
	q, err := usage.ParseQuery(*from, *to, *by, *caller, *action, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "idvusage: %v\n", err)
		return 2
	}
	var rep *usage.Report
	if *base != "" {
		k := *key
		if k == "" {
			k = getenv("IDV_USAGE_KEY")
		}
		rep, err = fetch(ctx, *base, k, *from, *to, *by, *caller, *action)
	} else {
		rep, err = fromRedis(ctx, q, *redisURL, *pricesFlag, getenv, stderr, *quiet)
	}
	if err != nil {
		fmt.Fprintf(stderr, "idvusage: %v\n", err)
		return 1
	}
	switch {
	case *asJSON:
		err = rep.JSON(stdout)
	case *asCSV:
		err = rep.CSV(stdout)
	default:
		err = rep.Text(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "idvusage: %v\n", err)
		return 1
	}
	return 0
}

func fromRedis(ctx context.Context, q usage.Query, raw, pricesJSON string, getenv func(string) string, stderr io.Writer, quiet bool) (*usage.Report, error) {
	if raw == "" {
		raw = getenv("IDV_REDIS_URL")
	}
	if raw == "" {
		return nil, errors.New("no store: give --redis redis://host:6379/0 (or set IDV_REDIS_URL), or --url of a deployment")
	}
	if secrets.IsRef(raw) {
		env, err := secrets.Load(ctx, secrets.Options{Environ: []string{"IDV_REDIS_URL=" + raw}, Getenv: getenv, Logger: secrets.Discard()})
		if err != nil {
			return nil, fmt.Errorf("IDV_REDIS_URL: %w", err)
		}
		raw = env.Getenv("IDV_REDIS_URL")
	}
	o, err := resp.ParseURL(raw)
	if err != nil {
		// The URL may carry a password: never echo it.
		return nil, errors.New("the Redis URL is not redis:// or rediss:// ([user:password@]host[:port][/db])")
	}
	if pricesJSON == "" {
		pricesJSON = getenv(usage.PricesVar)
	}
	prices, err := usage.ParsePrices(pricesJSON, callers.KnownAction)
	if err != nil {
		return nil, err
	}
	c := resp.NewClient(o)
	defer c.Close()
	var progress func(day string, done, total int)
	long := int(q.To.Sub(q.From).Hours()/24) >= 31
	if long && !quiet {
		progress = func(day string, done, total int) {
			fmt.Fprintf(stderr, "\ridvusage: read %s (%d of %d days)", day, done, total)
			if done == total {
				fmt.Fprintln(stderr)
			}
		}
	}
	return usage.Build(ctx, usage.NewRedis(c, "idv:usage:", 0), q, prices, progress)
}

// fetch asks a deployment's GET /v1/usage.
func fetch(ctx context.Context, base, key, from, to, by, caller, action string) (*usage.Report, error) {
	v := url.Values{}
	for k, x := range map[string]string{"from": from, "to": to, "by": by, "caller": caller, "action": action} {
		if x != "" {
			v.Set(k, x)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+usage.Path+"?"+v.Encode(), nil)
	if err != nil {
		return nil, fmt.Errorf("--url: %w", err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d: %s", usage.Path, res.StatusCode, strings.TrimSpace(string(body)))
	}
	var rep usage.Report
	if err := json.Unmarshal(body, &rep); err != nil {
		return nil, fmt.Errorf("GET %s: not a usage report: %w", usage.Path, err)
	}
	return &rep, nil
}
