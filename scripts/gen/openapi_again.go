package main

import (
	"os"
	"os/exec"
	"strings"
)

// againIfRegistryChanged runs the generator once more when this run
// rewrote the registry or the models: the OpenAPI examples come from the
// sandbox tables, which this binary compiled against the old registry, so
// a new action's examples appear only in a run built on the new one.
func againIfRegistryChanged(root string, written []string) error {
	if os.Getenv("IDV_GEN_AGAIN") != "" {
		return nil
	}
	for _, p := range written {
		if strings.HasPrefix(p, "shared/faceid/") && strings.HasSuffix(p, ".go") {
			cmd := exec.Command("go", "run", "./scripts/gen", "-root", root)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "IDV_GEN_AGAIN=1")
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			return cmd.Run()
		}
	}
	return nil
}
