#!/usr/bin/env bash
# Regenerates the FaceID models, the action registry and the function mains
# from shared/faceid/spec/faceid-2018-03-01.json. Run after editing the spec.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./scripts/gen "$@"
