#!/usr/bin/env bash
# Builds the function binaries and their deployment packages into dist/.
#
#   scripts/build.sh                               every function, every target below
#   scripts/build.sh detect-auth get-detect-info   only these (folder names under functions/)
#   scripts/build.sh --arch arm64                  only one architecture: arm64 or amd64
#   scripts/build.sh --platform lambda             only one platform: lambda or scf
#   scripts/build.sh --verify [options] [names]    build, build again into a scratch directory
#                                                  with an empty build cache, and compare every
#                                                  binary and zip byte for byte
#                                                  (VERIFY_FRESH_CACHE=0: reuse the build cache)
#   JOBS=2 scripts/build.sh                        links and zips run at a time (default 2)
#
# Targets, each a linux build of every function:
#   lambda arm64   AWS Lambda provided.al2023 (what template.yaml deploys)
#   lambda amd64   AWS Lambda provided.al2023 on x86_64
#   scf    amd64   Tencent SCF (Custom Runtime event function, or Web function)
# Lambda builds leave out the Tencent secrets backend (-tags idv_no_tencent),
# the AWS SDK's config loader, the HTTP server and the SCF client (-tags
# idv_lambda: the role's credentials come from the environment Lambda sets,
# and every event comes through the Runtime API); SCF builds leave out the
# AWS backend (-tags idv_no_aws: see shared/secrets/backends) and
# aws-lambda-go (-tags idv_scf). tests/builddeps_test.go checks the lists.
# The tag lambda.norpc drops aws-lambda-go's legacy go1.x RPC mode everywhere
# (SCF's Go1 protocol is implemented separately in shared/runtime, and linked
# only with SCF_GO1=1: it is net/rpc, whose html/template import turns off the
# linker's dead-method elimination and adds ~8 MB to every binary; Custom
# Runtime and Web functions do not need it).
#   SCF_GO1=1 scripts/build.sh --platform scf   SCF binaries that also speak Go1
#
# Output (dist/ is not committed):
#   dist/bin/<platform>_<arch>/<fn>     the binaries
#   dist/lambda/<arch>/<fn>.zip         Lambda: "bootstrap" at the zip root; sam deploy uploads these
#   dist/scf/event/<fn>/bootstrap       SCF Custom Runtime event function: the code
#                                       directories serverless.yml uploads (scf deploy)
#   dist/scf/web/<fn>/                  SCF Web function: scf_bootstrap + the binary
#   dist/scf/zip/event/<fn>.zip         the same two as zips, for the SCF console, COS or tccli
#   dist/scf/zip/web/<fn>.zip
#
# Reproducible: the same sources and Go toolchain give the same bytes. CGO is
# off, paths are trimmed, there is no VCS stamp, GOAMD64 and GOARM64 are
# fixed, the Go build ID is a hash of the inputs (kept: it lets go build skip
# a binary that is up to date), and scripts/package writes zips with fixed
# dates, modes and order.
#
# Incremental: all functions of a target are one `go build` (unchanged
# binaries are not linked again) and a zip is written again only when its
# inputs changed (dist/.stamps). From a warm cache after a change to shared
# code every function is linked and zipped; after a change to one function
# only that one.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

all_targets=(lambda/arm64 lambda/amd64 scf/amd64)
arch_filter="" platform_filter=""
verify=0
names=()
while [ $# -gt 0 ]; do
  case "$1" in
    --arch)
      [ $# -ge 2 ] || { usage; exit 2; }
      case "$2" in
        arm64 | amd64) arch_filter=$2 ;;
        *) echo "build: --arch must be arm64 or amd64, not $2" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --platform)
      [ $# -ge 2 ] || { usage; exit 2; }
      case "$2" in
        lambda | scf) platform_filter=$2 ;;
        *) echo "build: --platform must be lambda or scf, not $2" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --verify) verify=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "build: unknown option $1" >&2; usage; exit 2 ;;
    *) names+=("$1"); shift ;;
  esac
done

targets=()
for t in "${all_targets[@]}"; do
  [ -n "$arch_filter" ] && [ "${t#*/}" != "$arch_filter" ] && continue
  [ -n "$platform_filter" ] && [ "${t%/*}" != "$platform_filter" ] && continue
  targets+=("$t")
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "build: no target is $platform_filter for $arch_filter (SCF is amd64 only)" >&2
  exit 2
fi

if [ ${#names[@]} -eq 0 ]; then
  for d in functions/*/; do
    d=${d%/}
    [ -f "$d/main.go" ] && names+=("${d#functions/}")
  done
fi
for n in "${names[@]}"; do
  if [ ! -f "functions/$n/main.go" ]; then
    echo "build: no function $n (expected functions/$n/main.go)" >&2
    exit 2
  fi
done

JOBS=${JOBS:-2}
DIST=${DIST:-dist}

# outputs NAME TARGET lists the files one build produces, relative to $DIST.
outputs() {
  local platform=${2%/*} arch=${2#*/}
  echo "bin/${platform}_$arch/$1"
  case "$platform" in
    lambda) echo "lambda/$arch/$1.zip" ;;
    scf) echo "scf/zip/event/$1.zip"; echo "scf/zip/web/$1.zip" ;;
  esac
}

if [ "$verify" = 1 ]; then
  args=()
  [ -n "$arch_filter" ] && args+=(--arch "$arch_filter")
  [ -n "$platform_filter" ] && args+=(--platform "$platform_filter")
  args+=("${names[@]}")
  echo "==> build 1 of 2: $DIST (the usual build cache)"
  "$0" "${args[@]}"
  scratch=$(mktemp -d)
  trap 'chmod -R u+w "$scratch" 2>/dev/null; rm -rf "$scratch"' EXIT
  cache="$scratch/gocache" what="an empty build cache"
  if [ "${VERIFY_FRESH_CACHE:-1}" = 0 ]; then
    cache=$(go env GOCACHE) what="the usual build cache (VERIFY_FRESH_CACHE=0)"
  fi
  echo
  echo "==> build 2 of 2: a scratch directory and $what"
  DIST="$scratch/dist" GOCACHE="$cache" BUILD_TABLE=0 "$0" "${args[@]}"
  if command -v sha256sum >/dev/null; then sum() { sha256sum "$1" | cut -d' ' -f1; }
  else sum() { shasum -a 256 "$1" | cut -d' ' -f1; }; fi
  echo
  echo "==> comparing"
  same=0 differ=0
  for t in "${targets[@]}"; do
    for n in "${names[@]}"; do
      while read -r f; do
        a=$(sum "$DIST/$f") b=$(sum "$scratch/dist/$f")
        if [ "$a" = "$b" ]; then
          same=$((same + 1))
        else
          differ=$((differ + 1))
          echo "DIFFERENT  $f  $a  $b"
        fi
      done < <(outputs "$n" "$t")
    done
  done
  if [ "$differ" -ne 0 ]; then
    echo "build: $differ of $((same + differ)) files differ between two builds of the same sources" >&2
    exit 1
  fi
  echo "reproducible: $same files identical (sha256) across two builds, the second into a scratch directory with $what"
  exit 0
fi

mkdir -p "$DIST/.tools"
CGO_ENABLED=0 go build -trimpath -o "$DIST/.tools/package" ./scripts/package
pkg="$DIST/.tools/package"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

total=$(( ${#names[@]} * ${#targets[@]} ))
width=${#total}

# link SRC DST: a hard link when possible (no second copy of a binary), else a copy.
link() { ln -f "$1" "$2" 2>/dev/null || cp -f "$1" "$2"; }

# zip_once OUT NAME=PATH...: scripts/package with a stamp under
# $DIST/.stamps recording a hash of the inputs: an unchanged function is not
# deflated again.
zip_once() {
  local out=$1; shift
  "$pkg" -o "$out" -stamp "$DIST/.stamps/${out#"$DIST"/}.sum" "$@"
}

# package_one NAME TARGET: the deployment packages of one built function.
package_one() {
  local name=$1 target=$2
  local platform=${target%/*} arch=${target#*/}
  local bin="$DIST/bin/${platform}_$arch/$name"
  case "$platform" in
    lambda)
      mkdir -p "$DIST/lambda/$arch"
      zip_once "$DIST/lambda/$arch/$name.zip" "bootstrap=$bin"
      ;;
    scf)
      # Custom Runtime event function: the binary is "bootstrap". Web
      # function: scf_bootstrap (bash, LF, 0755) starts the binary in
      # scf-web mode, an HTTP server on 0.0.0.0:9000.
      local event="$DIST/scf/event/$name" web="$DIST/scf/web/$name"
      mkdir -p "$event" "$web" "$DIST/scf/zip/event" "$DIST/scf/zip/web"
      link "$bin" "$event/bootstrap"
      link "$bin" "$web/$name"
      cat >"$web/scf_bootstrap.tmp" <<EOF
#!/bin/bash
# SCF Web function: serve $name over HTTP on 0.0.0.0:9000.
export IDV_RUNTIME=scf-web
cd "\$(dirname "\$0")" || exit 1
exec ./$name
EOF
      chmod 755 "$web/scf_bootstrap.tmp"
      if cmp -s "$web/scf_bootstrap.tmp" "$web/scf_bootstrap" && [ -x "$web/scf_bootstrap" ]; then
        rm -f "$web/scf_bootstrap.tmp" # unchanged: its zip need not be written again
      else
        mv -f "$web/scf_bootstrap.tmp" "$web/scf_bootstrap"
      fi
      zip_once "$DIST/scf/zip/event/$name.zip" "bootstrap=$bin"
      zip_once "$DIST/scf/zip/web/$name.zip" "scf_bootstrap=$web/scf_bootstrap" "$name=$bin"
      ;;
  esac
}

# One `go build` per target links every function: the go command loads the
# packages once, links up to JOBS binaries at a time, and leaves a binary
# alone when its Go build ID says it is up to date (the build ID is kept
# for that; it is a hash of the inputs, so builds stay reproducible). Only
# what changed is linked, and only what was linked is zipped again.
echo "building ${#names[@]} function(s) for ${targets[*]} with $(go env GOVERSION), $JOBS at a time"
start=$SECONDS
pkgs=()
for name in "${names[@]}"; do pkgs+=("./functions/$name"); done
n=0
for t in "${targets[@]}"; do
  platform=${t%/*} arch=${t#*/}
  case "$platform" in
    lambda) tags=lambda.norpc,idv_no_tencent,idv_lambda ;;
    scf) tags=lambda.norpc,idv_no_aws,idv_scf${SCF_GO1:+,idv_scfgo1} ;;
  esac
  bindir="$DIST/bin/${platform}_$arch"
  mkdir -p "$bindir"
  t0=$SECONDS
  if [ ${#names[@]} -eq 1 ]; then
    out="$bindir/${names[0]}" # -o DIR/ wants several packages
  else
    out="$bindir/"
  fi
  if ! CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOAMD64=v1 GOARM64=v8.0 \
    go build -p "$JOBS" -trimpath -buildvcs=false -tags "$tags" -ldflags "-s -w" \
    -o "$out" "${pkgs[@]}" >"$work/build.$platform.$arch.log" 2>&1; then
    echo "FAILED: $platform linux/$arch"
    cat "$work/build.$platform.$arch.log"
    exit 1
  fi
  t1=$SECONDS
  for name in "${names[@]}"; do
    n=$((n + 1))
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
      wait -n || true
    done
    { package_one "$name" "$t" || { echo "FAILED: packaging $name $platform linux/$arch"; touch "$work/failed.$name.$platform.$arch"; }; } &
  done
  wait
  printf '[%*d/%d] %s linux/%s: %d function(s) linked in %ds (unchanged ones skipped), packaged in %ds\n' \
    "$width" "$n" "$total" "$platform" "$arch" "${#names[@]}" "$((t1 - t0))" "$((SECONDS - t1))"
done

failed=$(find "$work" -name 'failed.*' | wc -l)
if [ "$failed" -ne 0 ]; then
  echo "build: $failed of $total packages failed" >&2
  exit 1
fi

size() { if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo 0; fi; }
mib() { awk -v b="$1" 'BEGIN { if (b == 0) print "-"; else printf "%.2f MiB", b / 1048576 }'; }

if [ "${BUILD_TABLE:-1}" = 1 ]; then
  echo
  row() { printf '%-34s %-13s %11s %11s %11s\n' "$@"; }
  row function target binary zip "web zip"
  tb=0 tz=0 tw=0
  for t in "${targets[@]}"; do
    for name in "${names[@]}"; do
      platform=${t%/*} arch=${t#*/}
      b=$(size "$DIST/bin/${platform}_$arch/$name") w=0
      if [ "$platform" = lambda ]; then
        z=$(size "$DIST/lambda/$arch/$name.zip")
      else
        z=$(size "$DIST/scf/zip/event/$name.zip") w=$(size "$DIST/scf/zip/web/$name.zip")
      fi
      tb=$((tb + b)) tz=$((tz + z)) tw=$((tw + w))
      row "$name" "$platform/$arch" "$(mib "$b")" "$(mib "$z")" "$(mib "$w")"
    done
  done
  row "total ($total builds)" "" "$(mib "$tb")" "$(mib "$tz")" "$(mib "$tw")"
fi
echo
echo "built $total in $((SECONDS - start))s into $DIST/"
