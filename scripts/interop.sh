#!/usr/bin/env bash
# The interop suite: proves that Python's Hugging Face stack (torch CPU, transformers 5.x,
# peft 0.21, safetensors, and TRL for its SFT data preparation) loads the studio's files unchanged
# and computes the same outputs.
#
# Creates .venv-interop/ in the repository when missing (scripts/interop-venv.sh), exports
# INTEROP_PYTHON, then runs `vitest --config vitest.interop.config.ts`. Extra arguments
# go to vitest (e.g. a file filter). Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/interop-venv.sh
PYTHON="$PWD/.venv-interop/bin/python"

export INTEROP_PYTHON="$PYTHON"
exec npx vitest run --config vitest.interop.config.ts "$@"
