#!/usr/bin/env bash
# Lab fixtures shared by `make demo` and the Molecule scenarios: the PyTorch CPU index
# stand-in, the PyPI mirror, a tiny model and an API key. Cheap to re-run: each step is skipped when done.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
lab="${LAB_DIR:?LAB_DIR must be set (the Makefile exports it)}"
mkdir -p "$lab"

"$here/torch-index.sh" start
"$here/pypi-mirror.sh" start

if [ ! -f "$lab/tiny-model/model.safetensors" ]; then
  python "$here/make_tiny_model.py" "$lab/tiny-model"
fi

# The Hugging Face mirror (olah) with the tiny model and a synthetic multi-shard repository.
"$here/hf-mirror.sh" start
"$here/hf-mirror.sh" repo inferops/tiny-qwen2 "$lab/tiny-model" >/dev/null
"$here/hf-mirror.sh" synthetic inferops/synthetic-300m 300

if [ ! -s "$lab/api-key" ]; then
  (umask 077; python -c 'import secrets; print("sk-lab-" + secrets.token_hex(16))' >"$lab/api-key")
  echo "lab: new API key in $lab/api-key"
fi
