#!/usr/bin/env bash
# Runs every check a change must pass: formatting, vet, generated files
# current, the whole test suite with the race detector (unit tests, the fake
# providers, and black-box tests that build and drive the real binaries), and
# a short fuzzing pass over every decoder and validator.
#
#   scripts/test.sh            # everything (a few minutes on 2 cores)
#   FUZZTIME=0 scripts/test.sh # skip the fuzzing pass
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "generated files are current"
go run ./scripts/gen -check

step "go test -race (all packages)"
go test -race -count=1 -timeout 20m ./...

FUZZTIME=${FUZZTIME:-5s}
if [ "$FUZZTIME" != "0" ]; then
  step "fuzzing each target for $FUZZTIME"
  # Every Fuzz* function in the tree, run one at a time (go test allows one
  # -fuzz target per run).
  grep -rl --include='*_test.go' '^func Fuzz' shared tests 2>/dev/null | while read -r f; do
    pkg="./$(dirname "$f")"
    for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do
      echo "fuzz $pkg $fn"
      go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" "$pkg" >/tmp/idv-fuzz.log 2>&1 || { cat /tmp/idv-fuzz.log; exit 1; }
    done
  done
fi

step "all checks passed"
