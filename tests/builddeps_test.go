package tests

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDeployBuildDependencies is the checked list of what each deployed
// binary may link (as scripts/build.sh builds it): a function carries what
// its platform can use and nothing it cannot, so one stray import cannot
// put a megabyte back into all 49 functions.
func TestDeployBuildDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("lists build dependencies")
	}
	deps := func(goos, tags, pkg string) map[string]bool {
		cmd := exec.Command("go", "list", "-deps", "-tags", tags, pkg)
		cmd.Dir = ".."
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "GOARCH=arm64", "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s %s: %v", tags, pkg, err)
		}
		m := map[string]bool{}
		for _, l := range strings.Fields(string(out)) {
			m[l] = true
		}
		return m
	}
	const mod = "github.com/idverify/idverify/"
	never := []string{
		"github.com/redis/go-redis/v9",             // the store client is shared/resp
		"github.com/aws/aws-sdk-go-v2/service/kms", // secrets are one signed request
		"github.com/aws/aws-sdk-go-v2/service/secretsmanager",
		"github.com/aws/aws-sdk-go-v2/service/ssm",
		"github.com/aws/aws-sdk-go-v2/config",
		"net/rpc", "html/template", // SCF Go1 only, and only with idv_scfgo1
	}
	cases := []struct {
		name, tags string
		must, not  []string
	}{
		{"lambda", "lambda.norpc,idv_no_tencent,idv_lambda",
			[]string{"github.com/aws/aws-lambda-go/lambda", mod + "shared/secrets/awsbackend", mod + "shared/resp"},
			[]string{mod + "shared/runtime/httpserver", mod + "shared/runtime/scfcustom", mod + "shared/secrets/tcbackend"}},
		{"scf", "lambda.norpc,idv_no_aws,idv_scf",
			[]string{mod + "shared/runtime/httpserver", mod + "shared/runtime/scfcustom", mod + "shared/secrets/tcbackend"},
			[]string{"github.com/aws/aws-lambda-go/lambda", mod + "shared/secrets/awsbackend"}},
	}
	for _, c := range cases {
		for _, fn := range []string{"id-card-verification", "face-adv", "faceprint-idcard-submit"} {
			got := deps("linux", c.tags, "./functions/"+fn)
			for _, p := range c.must {
				if !got[p] {
					t.Errorf("%s %s does not link %s", c.name, fn, p)
				}
			}
			for _, p := range append(c.not, never...) {
				if got[p] {
					t.Errorf("%s %s links %s", c.name, fn, p)
				}
			}
		}
	}
}
