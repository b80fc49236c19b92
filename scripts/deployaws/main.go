// Command deployaws deploys template.yaml to AWS with the SAM CLI, after a
// preflight: every stack parameter is read from the environment (or an env
// file), secret ones must be AWS secret references that parse and that the
// functions' roles are granted, required settings for the mode are set, and
// every value passes the template's own constraints. It builds only what the
// template deploys and passes every parameter explicitly, so the stack
// matches the file. Run it as scripts/deploy-aws.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/idverify/idverify/shared/secrets"
	"github.com/idverify/idverify/shared/secrets/secretscmd"
)

const usage = `scripts/deploy-aws: deploy template.yaml to AWS Lambda with the SAM CLI.

  scripts/deploy-aws [options] [-- extra sam deploy options]
  scripts/deploy-aws --dry-run [options]   print what would be deployed; needs no sam, no AWS
                                           credentials, no build

Options:
  --env-file FILE        KEY=value settings (dotenv style); they win over the environment
  --stack-name NAME      CloudFormation stack (default: IDV_STACK_NAME, else samconfig.toml's, "idverify")
  --region REGION        AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, else your profile's)
  --check-secrets        resolve every reference with idvsecrets check before deploying
                         (default: only when AWS credentials are present)
  --no-check-secrets     never resolve references
  --no-build             deploy the zips already in dist/lambda/arm64 (refused if one is missing)
  --no-confirm-changeset deploy without asking to confirm the change set
  --template FILE        the SAM template (default: template.yaml)

Settings (environment or --env-file), one per stack parameter:
  secret references      <VAR>_REF: TENCENTCLOUD_SECRET_ID_REF, TENCENTCLOUD_SECRET_KEY_REF,
                         IDV_CALLERS_REF, IDV_REDIS_URL_REF, IDV_STORE_KEY_REF, IDV_WEBANK_SECRET_REF,
                         IDV_FACEADV_CALLBACK_SECRET_REF, BAIDU_API_KEY_REF, BAIDU_SECRET_KEY_REF,
                         IDV_EID_SM2_PRIVATE_KEY_REF, IDV_PERSON_KEY_REF
                         (awssm:, awsssm: or awskms: references only, never the secret)
  function settings      the variable itself: IDV_ENV, IDV_MODE, IDV_LOG_LEVEL, TENCENTCLOUD_REGION,
                         IDV_WEBANK_APP_ID, IDV_FACEID_ENCRYPT, IDV_BUDGETS, ... (the encryption,
                         limits, budgets and usage settings are checked as the functions check them)
  stack settings         SECRETS_MANAGER_SECRET_ARN, SSM_PARAMETER_PATH, KMS_KEY_ARN (what the roles
                         may read), LOG_RETENTION_IN_DAYS, FACE_ADV_RATE_LIMIT, FACEPRINT_RATE_LIMIT
  --dry-run lists every one with its value (references masked) and where it came from.

Required: IDV_CALLERS_REF with IDV_ENV=production (the default); TENCENTCLOUD_SECRET_ID_REF and
TENCENTCLOUD_SECRET_KEY_REF with IDV_MODE=live (the default). An awssm:/awsssm:/awskms: reference
needs SECRETS_MANAGER_SECRET_ARN / SSM_PARAMETER_PATH / KMS_KEY_ARN.

Flows: the flows function (functions/all) has its own Function URL (stack output FlowsUrl) and is
invoked every minute with {"Action":"flows/sweep"}. With IDV_REDIS_URL_REF set, flows are on: the
flow-start functions send browsers to that URL, and IDV_STORE_KEY_REF is required in production.
IDV_WEBHOOKS (a JSON array of {caller, url, secret}, each secret an AWS reference) needs
IDV_REDIS_URL_REF.
`

func main() { os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)) }

// run is the command; getenv is the process environment.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy-aws", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	dry := fs.Bool("dry-run", false, "")
	envFile := fs.String("env-file", "", "")
	stack := fs.String("stack-name", "", "")
	region := fs.String("region", "", "")
	checkSecrets := fs.Bool("check-secrets", false, "")
	noCheckSecrets := fs.Bool("no-check-secrets", false, "")
	noBuild := fs.Bool("no-build", false, "")
	noConfirm := fs.Bool("no-confirm-changeset", false, "")
	tmpl := fs.String("template", "template.yaml", "")
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *help {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if *checkSecrets && *noCheckSecrets {
		fmt.Fprintln(stderr, "deploy-aws: --check-secrets and --no-check-secrets together")
		return 2
	}
	// The wrapper runs this from the repository root; paths the user typed
	// are relative to where they typed them.
	userDir := getenv("IDV_DEPLOY_CWD")
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || userDir == "" {
			return p
		}
		return filepath.Join(userDir, p)
	}
	p, err := loadPlan(*tmpl)
	if err != nil {
		fmt.Fprintln(stderr, "deploy-aws:", err)
		return 1
	}
	root := filepath.Dir(p.Template)

	file := map[string]string{}
	fileName := ""
	if *envFile != "" {
		raw, err := os.ReadFile(abs(*envFile))
		if err != nil {
			fmt.Fprintf(stderr, "deploy-aws: cannot read the env file %s\n", *envFile)
			return 1
		}
		environ, err := secretscmd.ParseEnvFile(raw)
		if err != nil {
			fmt.Fprintf(stderr, "deploy-aws: %s: %v\n", *envFile, err)
			return 1
		}
		file = secrets.ParseEnviron(environ)
		fileName = filepath.Base(*envFile)
	}
	lookup := func(v string) (string, string) {
		if val, ok := file[v]; ok {
			return val, fileName
		}
		if val := getenv(v); val != "" {
			return val, "environment"
		}
		return "", ""
	}

	res := check(p, lookup)
	stackName, stackSrc := pick(*stack, "--stack-name", getenv("IDV_STACK_NAME"), "IDV_STACK_NAME")
	if stackName == "" {
		stackName, stackSrc = samconfigStack(filepath.Join(root, "samconfig.toml")), "samconfig.toml"
		if stackName == "" {
			stackName, stackSrc = "idverify", "default"
		}
	}
	if !validStack.MatchString(stackName) {
		res.Problems = append(res.Problems, "the stack name must be 1-128 letters, digits and hyphens, starting with a letter")
	}
	regionName, regionSrc := pick(*region, "--region", getenv("AWS_REGION"), "AWS_REGION")
	if regionName == "" {
		regionName, regionSrc = getenv("AWS_DEFAULT_REGION"), "AWS_DEFAULT_REGION"
	}
	if regionName != "" && !validRegion.MatchString(regionName) {
		res.Problems = append(res.Problems, fmt.Sprintf("the region from %s is not an AWS region name", regionSrc))
	}
	creds := awsCredentials(getenv)
	runCheck := *checkSecrets || (!*noCheckSecrets && creds != "")

	if len(res.Problems) > 0 {
		fmt.Fprintf(stderr, "deploy-aws: %s cannot be deployed as the settings stand; nothing was built or deployed:\n", p.Template)
		for _, pr := range res.Problems {
			fmt.Fprintln(stderr, "  -", pr)
		}
		return 1
	}

	samArgs := samCommand(p, res, stackName, regionName, *noConfirm, fs.Args())
	build := append([]string{"scripts/build.sh", "--platform", "lambda", "--arch", "arm64"}, p.names()...)
	if *dry {
		printPlan(stdout, p, res, planInfo{
			stack: stackName, stackSrc: stackSrc, region: regionName, regionSrc: regionSrc,
			creds: creds, runCheck: runCheck, noCheck: *noCheckSecrets, noBuild: *noBuild,
			build: build, sam: samArgs,
		})
		return 0
	}

	for _, n := range res.Notes {
		fmt.Fprintln(stderr, "note:", n)
	}
	if runCheck {
		why := "--check-secrets"
		if !*checkSecrets {
			why = "AWS credentials present (" + creds + "); --no-check-secrets skips this"
		}
		fmt.Fprintf(stderr, "==> idvsecrets check (%s)\n", why)
		if err := checkRefs(root, p, res, regionName, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "deploy-aws:", err)
			return 1
		}
	} else {
		fmt.Fprintln(stderr, "note: references not resolved (no AWS credentials in the environment and no --check-secrets)")
	}
	sam, err := exec.LookPath("sam")
	if err != nil {
		fmt.Fprintln(stderr, "deploy-aws: the AWS SAM CLI (sam) is not on PATH: install it (pip install aws-sam-cli), or try --dry-run")
		return 1
	}
	if !*noBuild {
		fmt.Fprintln(stderr, "==>", strings.Join(build, " "))
		cmd := exec.Command("bash", build...)
		cmd.Dir = root
		// template.yaml's CodeUri is dist/ beside it, whatever DIST says.
		cmd.Env = append(os.Environ(), "DIST="+filepath.Join(absPath(root), "dist"))
		cmd.Stdout, cmd.Stderr = stderr, stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(stderr, "deploy-aws: build failed:", err)
			return 1
		}
	}
	var missing []string
	for _, f := range p.Functions {
		if _, err := os.Stat(p.zipPath(f)); err != nil {
			missing = append(missing, f.CodeUri)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(stderr, "deploy-aws: %d zips are missing (%s...): run without --no-build\n", len(missing), missing[0])
		return 1
	}
	fmt.Fprintln(stderr, "==>", shellJoin(maskedArgs(p, samArgs)))
	cmd := exec.Command(sam, samArgs[1:]...)
	cmd.Dir = root
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(stderr, "deploy-aws: sam deploy:", err)
		return 1
	}
	return 0
}

var (
	validStack  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]{0,127}$`)
	validRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d+$`)
)

func pick(flagVal, flagName, envVal, envName string) (string, string) {
	if flagVal != "" {
		return flagVal, flagName
	}
	if envVal != "" {
		return envVal, envName
	}
	return "", ""
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

// samconfigStack reads stack_name from samconfig.toml (a line
// stack_name = "..."), "" when there is none.
func samconfigStack(file string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.TrimSpace(k) == "stack_name" {
			return strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	return ""
}

// awsCredentials names where AWS credentials would come from, "" if from
// nowhere visible.
func awsCredentials(getenv func(string) string) string {
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		if getenv(v) != "" {
			return v
		}
	}
	if home := getenv("HOME"); home != "" {
		for _, f := range []string{".aws/credentials", ".aws/config"} {
			if _, err := os.Stat(filepath.Join(home, f)); err == nil {
				return "~/" + f
			}
		}
	}
	return ""
}

// samCommand is the sam deploy command line (unmasked). Every parameter is
// passed: sam deploy keeps a parameter's previous value when it is left out,
// so an emptied setting would silently stay.
func samCommand(p *plan, res checkResult, stack, region string, noConfirm bool, extra []string) []string {
	args := []string{"sam", "deploy",
		"--template-file", filepath.Base(p.Template),
		"--config-file", "samconfig.toml",
		"--stack-name", stack,
		"--resolve-s3",
		"--capabilities", "CAPABILITY_IAM",
	}
	if region != "" {
		args = append(args, "--region", region)
	}
	if noConfirm {
		args = append(args, "--no-confirm-changeset")
	}
	args = append(args, "--parameter-overrides")
	for _, pr := range p.Params {
		args = append(args, pr.Name+"="+samQuote(res.Values[pr.Name].Value))
	}
	return append(args, extra...)
}

// samQuote wraps a value in double quotes for sam's parameter parser
// (samcli/cli/types.py CfnParameterOverridesType: a double-quoted value may
// hold \" and loses its quotes and those escapes); an empty value becomes
// "". IDV_WEBHOOKS' JSON holds quotes; no value holds a backslash (the
// preflight refuses one: the parser would keep it, doubled or not).
func samQuote(v string) string { return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"` }

// samUnquote is what sam's parser makes of a samQuote'd value.
func samUnquote(q string) string {
	if len(q) >= 2 && q[0] == '"' && q[len(q)-1] == '"' {
		q = q[1 : len(q)-1]
	}
	return strings.NewReplacer(`\ `, " ", `\"`, `"`, `\'`, "'").Replace(q)
}

// maskedArgs is the command line with secret references masked.
func maskedArgs(p *plan, args []string) []string {
	out := append([]string(nil), args...)
	for i, a := range out {
		name, val, ok := strings.Cut(a, "=")
		if !ok {
			continue
		}
		if pr := p.param(name); pr != nil && (pr.Secret || pr.Name == pWebhooks) {
			out[i] = name + "=" + samQuote(mask(pr, samUnquote(val)))
		}
	}
	return out
}

// shellJoin quotes arguments for a POSIX shell where needed.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@%+", r))
		}) < 0 {
			out[i] = a
			continue
		}
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(out, " ")
}

// checkRefs resolves every reference the functions will get with
// idvsecrets check, under the names the functions read them by.
func checkRefs(root string, p *plan, res checkResult, region string, stdout, stderr io.Writer) error {
	var lines []string
	for _, pr := range p.Params {
		v := res.Values[pr.Name].Value
		if pr.FnVar != "" && secrets.IsRef(v) {
			lines = append(lines, pr.FnVar+"="+v)
		}
	}
	// The names the flows function resolves the webhook secrets by.
	for i, ref := range webhookSecrets(res.Values[pWebhooks].Value) {
		lines = append(lines, fmt.Sprintf("IDV_WEBHOOKS_%d_SECRET=%s", i, ref))
	}
	if len(lines) == 0 {
		fmt.Fprintln(stderr, "note: no references to resolve")
		return nil
	}
	f, err := os.CreateTemp("", "deploy-aws-*.env")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); err != nil {
		f.Close()
		return err
	}
	f.Close()
	args := []string{"run", "./scripts/idvsecrets", "check", "--env-file", f.Name()}
	if res.Values[pEnvironment].Value == "production" {
		args = append(args, "--production")
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	if region != "" {
		cmd.Env = append(cmd.Env, "AWS_REGION="+region)
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return errors.New("a reference does not resolve (see above): nothing was built or deployed")
	}
	return nil
}

type planInfo struct {
	stack, stackSrc, region, regionSrc string
	creds                              string
	runCheck, noCheck, noBuild         bool
	build, sam                         []string
}

func printPlan(w io.Writer, p *plan, res checkResult, in planInfo) {
	fmt.Fprintln(w, "deploy-aws --dry-run: nothing is built, checked against AWS or deployed.")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "stack:     %s (%s)\n", in.stack, in.stackSrc)
	if in.region != "" {
		fmt.Fprintf(w, "region:    %s (%s)\n", in.region, in.regionSrc)
	} else {
		fmt.Fprintln(w, "region:    not set: sam uses your AWS profile's region (set AWS_REGION or --region)")
	}
	fmt.Fprintf(w, "template:  %s\n", p.Template)
	fmt.Fprintf(w, "           %s\n", p.Description)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "functions (%d):\n", len(p.Functions))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range p.Functions {
		name := f.Name
		if f.URL != "" || len(f.Schedules) > 0 {
			name += " (" + f.ID + ")" // functions/all, deployed as the flows function
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", name, f.describe(), f.CodeUri)
	}
	tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintf(w, "parameters (%d; secret references masked):\n", len(p.Params))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i := range p.Params {
		pr := &p.Params[i]
		s := res.Values[pr.Name]
		shown := mask(pr, s.Value)
		if shown == "" {
			shown = "(empty)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", pr.Name, shown, pr.Var, s.Source)
	}
	tw.Flush()
	if len(res.Notes) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "notes:")
		notes := append([]string(nil), res.Notes...)
		sort.Strings(notes)
		for _, n := range notes {
			fmt.Fprintln(w, "  -", n)
		}
	}
	if s := flowsSummary(p, res); s != "" {
		fmt.Fprintln(w)
		fmt.Fprint(w, s)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "would run:")
	switch {
	case in.runCheck && in.creds != "":
		fmt.Fprintf(w, "  go run ./scripts/idvsecrets check --env-file <the references> (AWS credentials present: %s)\n", in.creds)
	case in.runCheck:
		fmt.Fprintln(w, "  go run ./scripts/idvsecrets check --env-file <the references> (--check-secrets)")
	case in.noCheck:
		fmt.Fprintln(w, "  (references not resolved: --no-check-secrets)")
	default:
		fmt.Fprintln(w, "  (references not resolved: no AWS credentials in the environment; --check-secrets forces it)")
	}
	if in.noBuild {
		fmt.Fprintln(w, "  (no build: --no-build; the zips must already be in dist/lambda/arm64)")
	} else {
		fmt.Fprintf(w, "  %s\n", shellJoin(in.build))
	}
	fmt.Fprintf(w, "  %s\n", shellJoin(maskedArgs(p, in.sam)))
	if _, err := exec.LookPath("sam"); err != nil {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "note: sam is not on PATH here; a real deploy needs the AWS SAM CLI (pip install aws-sam-cli)")
	}
}
