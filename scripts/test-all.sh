#!/usr/bin/env bash
# Installs what the three test suites need on a fresh machine, then runs them all:
# unit (Vitest, Node), browser (Playwright in Debian's Chromium with WebGPU) and interop
# (our exports against the real torch/transformers/peft from the local wheel index).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium ]]; then
  echo "== installing Chromium from Debian"
  if [[ $(id -u) -eq 0 ]]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi
fi

echo "== typecheck"
npx tsc --noEmit -p tsconfig.json

echo "== unit tests (Vitest, tfjs cpu backend)"
npx vitest run

echo "== browser tests (Playwright, headless Chromium, WebGPU)"
npx playwright test

echo "== interop tests (torch, transformers, peft)"
bash scripts/interop.sh
