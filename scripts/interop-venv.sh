#!/usr/bin/env bash
# Creates .venv-interop/ in the repository with the real Hugging Face stack (torch CPU,
# transformers 5.x, peft 0.21, safetensors, trl, datasets, pyarrow), only when it is missing or
# lacks a package. Used by the interop suite (scripts/interop.sh) and `npm run bench`.
#
# Packages come from pip's configured index. When the offline wheel index of this machine
# exists (/opt/pypi/simple) and PIP_INDEX_URL is not set, it is used, so pip never waits on an
# unreachable public index.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-interop
PYTHON="$PWD/$VENV/bin/python"
REQUIREMENTS=(torch 'transformers>=5,<6' 'peft>=0.21,<0.22' safetensors trl datasets pyarrow)

venv_ok() {
  [ -x "$PYTHON" ] && "$PYTHON" - <<'PY' 2>/dev/null
import importlib.metadata as m
import datasets, peft, pyarrow, safetensors, tokenizers, torch, transformers, trl  # noqa: F401  (importable, not just listed)
assert m.version("transformers").split(".")[0] == "5", m.version("transformers")
assert m.version("peft").startswith("0.21."), m.version("peft")
PY
}

if ! venv_ok; then
  echo "interop: setting up $VENV (torch, transformers 5.x, peft 0.21, safetensors, trl, datasets, pyarrow)" >&2
  [ -x "$PYTHON" ] || python3 -m venv "$VENV"
  if [ -z "${PIP_INDEX_URL:-}" ] && [ -d /opt/pypi/simple ]; then
    export PIP_INDEX_URL=file:///opt/pypi/simple
  fi
  # This machine's pip.conf also names an index folder with missing entries; pip warns once per
  # package about it. Drop that noise, keep everything else.
  "$PYTHON" -m pip install --disable-pip-version-check --quiet "${REQUIREMENTS[@]}" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  if ! venv_ok; then
    echo "interop: $VENV still lacks torch / transformers 5.x / peft 0.21 / safetensors / trl / datasets / pyarrow after pip install" >&2
    exit 1
  fi
fi

