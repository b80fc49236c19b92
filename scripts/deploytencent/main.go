// Command deploytencent deploys serverless.yml to Tencent SCF with the
// Serverless Cloud Framework, after checking what the framework does not:
// every ${env:X} the file uses is set (an unset one would reach the
// functions as the text "undefined"), secret settings are Tencent secret
// references, settings that go together are set together. It builds the
// one binary every function runs and nothing else. Run it as
// scripts/deploy-tencent; serverless.yml runs it as its src hook (--hook).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

const usage = `scripts/deploy-tencent: deploy serverless.yml to Tencent SCF.

  scripts/deploy-tencent [--file serverless.yml] [--check-secrets] [-- scf deploy options]
  scripts/deploy-tencent --dry-run   print what would be deployed; needs no cloud, no scf CLI
  scripts/deploy-tencent --hook      what serverless.yml's src hook runs inside "scf deploy":
                                     the checks (an unset variable is refused) and the build

It checks every ${env:X} serverless.yml uses, sets the unset optional ones
empty (the framework would otherwise write the text "undefined" into every
function), builds the one binary every function runs into
dist/scf/serverless/bootstrap, and runs "scf deploy" (npm i -g
serverless-cloud-framework; it asks you to log in, or reads TENCENT_SECRET_ID
and TENCENT_SECRET_KEY). --check-secrets also resolves every reference with
go run ./scripts/idvsecrets check (needs credentials that may read them).

Flows: the flows function (idverify-flows) has its own Function URL and a
timer that invokes it every minute with {"Action":"flows/sweep"}. Its URL
exists only after the first deploy: then set IDV_PUBLIC_URL to it and deploy
again. IDV_PUBLIC_URL or IDV_WEBHOOKS set (flows on) requires
IDV_REDIS_URL_REF and IDV_STORE_KEY_REF.
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy-tencent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	file := fs.String("file", "serverless.yml", "the multi-scf serverless.yml")
	dry := fs.Bool("dry-run", false, "print what would be deployed, change nothing")
	hook := fs.Bool("hook", false, "run as serverless.yml's src hook")
	checkSecrets := fs.Bool("check-secrets", false, "resolve every reference before deploying")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	p, err := loadPlan(*file)
	if err != nil {
		fmt.Fprintln(stderr, "deploy-tencent:", err)
		return 2
	}
	lookup, err := dotenvLookup(filepath.Join(filepath.Dir(*file), ".env"))
	if err != nil {
		fmt.Fprintln(stderr, "deploy-tencent: .env:", err)
		return 2
	}
	res := check(p, lookup, !*hook)
	if len(res.Problems) > 0 {
		fmt.Fprintf(stderr, "deploy-tencent: %s cannot be deployed as the environment stands; nothing was built, uploaded or created:\n", *file)
		for _, pr := range res.Problems {
			fmt.Fprintln(stderr, "  -", pr)
		}
		return 1
	}
	switch {
	case *dry:
		printPlan(stdout, p, res)
		return 0
	case *hook:
		if err := build(stderr, filepath.Dir(*file), p.Dist); err != nil {
			fmt.Fprintln(stderr, "deploy-tencent:", err)
			return 1
		}
		return 0
	}
	for _, n := range res.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	env := os.Environ()
	for _, v := range p.varNames() {
		if res.Unset[v] {
			env = append(env, v+"=") // left empty, never "undefined"
			fmt.Fprintf(stderr, "note: %s is unset: deployed empty\n", v)
		}
	}
	if *checkSecrets {
		if err := checkRefs(stderr, p, res, env); err != nil {
			fmt.Fprintln(stderr, "deploy-tencent:", err)
			return 1
		}
	}
	scf, err := exec.LookPath("scf")
	if err != nil {
		fmt.Fprintln(stderr, "deploy-tencent: the Serverless Cloud Framework CLI (scf) is not on PATH: npm i -g serverless-cloud-framework")
		return 1
	}
	// The build runs in scf deploy's src hook, so a deploy started by hand
	// with scf deploy gets the same checks and the same binary.
	cmd := exec.Command(scf, append([]string{"deploy"}, fs.Args()...)...)
	cmd.Dir = filepath.Dir(*file)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	fmt.Fprintln(stderr, "==> scf deploy", strings.Join(fs.Args(), " "))
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(stderr, "deploy-tencent: scf deploy:", err)
		return 1
	}
	return 0
}

// build compiles functions/all for SCF (scripts/build.sh, so the flags are
// the release build's) and leaves exactly one file in dist: the upload.
func build(log io.Writer, root, dist string) error {
	if dist == "" {
		return errors.New("serverless.yml has no inputs.src.dist: nothing to build into")
	}
	out := os.Getenv("DIST")
	if out == "" {
		out = filepath.Join(root, "dist")
	}
	cmd := exec.Command("bash", filepath.Join(root, "scripts", "build.sh"), "--platform", "scf", "all")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DIST="+out)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/build.sh --platform scf all: %v", err)
	}
	bin, err := os.ReadFile(filepath.Join(out, "bin", "scf_amd64", "all"))
	if err != nil {
		return err
	}
	dir := filepath.Join(root, dist)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// 0755 on the file: the CLI zips at the file's mode (owner-exec gives
	// 0755), and the component keeps a shared package as it is.
	return os.WriteFile(filepath.Join(dir, "bootstrap"), bin, 0o755)
}

// checkRefs resolves every reference the functions will read, as they do at
// cold start, with the caller's credentials.
func checkRefs(log io.Writer, p *plan, res checkResult, env []string) error {
	f, err := os.CreateTemp("", "idv-deploy-*.env")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	seen := map[string]bool{}
	for _, fn := range p.Functions {
		for _, e := range fn.Env {
			m := envRef.FindStringSubmatch(e.Value)
			if m == nil || !strings.HasSuffix(m[1], "_REF") || res.Values[m[1]] == "" || seen[e.Key] {
				continue
			}
			seen[e.Key] = true
			fmt.Fprintf(f, "%s=%s\n", e.Key, res.Values[m[1]])
		}
	}
	for _, line := range webhookRefs(res) {
		fmt.Fprintln(f, line)
	}
	f.Close()
	cmd := exec.Command("go", "run", "./scripts/idvsecrets", "check", "--production", "--env-file", f.Name())
	cmd.Dir = filepath.Dir(p.file)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = log, log
	fmt.Fprintln(log, "==> idvsecrets check --production")
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("a reference does not resolve (idvsecrets check: %v)", err)
	}
	return nil
}

func printPlan(w io.Writer, p *plan, res checkResult) {
	fmt.Fprintf(w, "Would deploy %d functions to %s (%s), each running %s/bootstrap built from functions/ all (handler = function):\n",
		len(p.Functions), p.Region, p.Runtime, p.Dist)
	for _, f := range p.Functions {
		var trig []string
		for _, t := range p.Triggers[f.Key] {
			trig = append(trig, t.String())
		}
		if len(trig) == 0 {
			trig = []string{"none"}
		}
		fmt.Fprintf(w, "  %-34s %-44s handler %-34s %4d MB %3d s  trigger %s\n", f.Key, f.Name, f.Handler, f.Memory, f.Timeout, strings.Join(trig, ", "))
	}
	fmt.Fprintln(w, "Settings (references are names, not secrets; ciphertexts shortened):")
	for _, v := range p.varNames() {
		val := res.Values[v]
		switch {
		case res.Unset[v]:
			val = "(unset: deployed empty)"
		case val == "":
			val = "(empty)"
		case len(val) > 48:
			val = val[:40] + "…(" + fmt.Sprint(len(val)) + " chars)"
		}
		fmt.Fprintf(w, "  %-34s %s  [%s]\n", v, val, p.usedBy(v))
	}
	for _, n := range res.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	if _, ok := p.Vars[varPublicURL]; ok {
		fmt.Fprintln(w, flowsSummary(res))
	}
	fmt.Fprintf(w, "Then: %s (checks, then scripts/build.sh --platform scf all into %s), and scf deploy uploads %s only.\n",
		p.Hook, p.Dist, p.Dist)
}
