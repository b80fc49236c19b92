#!/usr/bin/env bash
# Runs every check a change must pass: formatting, vet, generated files
# current, the whole test suite with the race detector (unit tests, the fake
# providers and clouds, and black-box tests that build and drive the real
# binaries), and a short fuzzing pass over every decoder and validator.
#
#   scripts/test.sh              everything, as CI runs it (about 7-10 minutes on 2 cores)
#   scripts/test.sh --quick      the inner loop: gofmt, vet, generated files, go test -short
#                                (no race detector, no real-binary or npm tests, no fuzzing)
#   scripts/test.sh --help       this text
#   FUZZTIME=0 scripts/test.sh   everything but the fuzzing pass
#   FUZZTIME=10s scripts/test.sh longer fuzzing (default 3s a target)
#
# Each step prints when it started (seconds since the run began) and how
# long it took, so a slow step shows itself.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

quick=0
case "${1:-}" in
  -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  --quick) quick=1 ;;
  "") ;;
  *) echo "test.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
esac

started=$SECONDS
step_name="" step_started=0
finish_step() {
  if [ -n "$step_name" ]; then
    printf '    (%s: %ds)\n' "$step_name" $((SECONDS - step_started))
  fi
}
step() {
  finish_step
  step_name=$1 step_started=$SECONDS
  printf '\n==> [+%ds] %s\n' $((SECONDS - started)) "$*"
}
trap 'rc=$?; finish_step; if [ $rc -ne 0 ]; then printf "\n==> FAILED after %ds in: %s\n" $((SECONDS - started)) "$step_name"; fi' EXIT

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "generated files are current"
go run ./scripts/gen -check

if [ "$quick" = 1 ]; then
  step "go test -short (all packages; quick mode)"
  go test -short -count=1 -timeout 10m ./...
  step "quick checks passed in $((SECONDS - started))s (the full suite: scripts/test.sh)"
  step_name=""
  exit 0
fi

step "go test -race (all packages)"
# ./tests first: go test starts packages in the order given, and ./tests
# (the real binaries, deploys, browsers: four minutes, one test at a time)
# then runs while the other packages are linked and tested beside it,
# instead of after them (245 s instead of 313 s, warm build cache, 2 cores).
go test -race -count=1 -timeout 20m ./tests ./...

step "go test the Lambda build's AWS configuration (-tags idv_lambda)"
go vet -tags idv_lambda,idv_no_tencent ./shared/secrets/...
go test -count=1 -tags idv_lambda,idv_no_tencent ./shared/secrets/...

FUZZTIME=${FUZZTIME:-3s}

# fuzz_one runs one target with one fuzzing worker; two run at a time. Go
# 1.26's fuzz coordinator can fail a run with a bare "context deadline
# exceeded" when -fuzztime ends while a worker is mid-call (golang/go#75804,
# fixed in Go 1.27), more often on a loaded machine. That failure writes no
# failing input; it is retried once, and a run that failed with a real
# finding (a failing input, a panic, a t.Error) always fails the suite
# (exit 255 stops xargs from starting more).
fuzz_one() {
  local pkg=$1 fn=$2 log attempt
  log=$(mktemp)
  for attempt in 1 2; do
    if go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$FUZZTIME" -parallel 1 "$pkg" >"$log" 2>&1; then
      echo "fuzz $pkg $fn: ok"; rm -f "$log"; return 0
    fi
    if grep -q "context deadline exceeded" "$log" && ! grep -qE "Failing input written|panic:|_test.go:[0-9]+:" "$log"; then
      echo "fuzz $pkg $fn: go#75804 shutdown race, no failing input: retrying"
      continue
    fi
    echo "fuzz $pkg $fn: FAILED"; cat "$log"; rm -f "$log"; exit 255
  done
  echo "fuzz $pkg $fn: coordinator deadline race twice in a row, no failing input found"; rm -f "$log"
}
if [ "$FUZZTIME" != "0" ]; then
  step "fuzzing each target for $FUZZTIME, two at a time"
  # Every Fuzz* function in the tree (go test fuzzes one target per run).
  # Two runs of one worker each keep both cores busy through the parts of
  # a run that do not fuzz (linking, replaying the corpus), which one run
  # of two workers leaves to one core.
  export -f fuzz_one; export FUZZTIME
  grep -rl --include='*_test.go' '^func Fuzz' shared tests 2>/dev/null | while read -r f; do
    for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | cut -d' ' -f2); do
      echo "./$(dirname "$f") $fn"
    done
  done | xargs -P 2 -n 2 bash -c 'fuzz_one "$0" "$1"'
fi

step "all checks passed in $((SECONDS - started))s"
step_name=""
