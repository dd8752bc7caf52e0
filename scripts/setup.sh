#!/usr/bin/env bash
# One command from a fresh clone: create .venv, install everything (CPU torch first, so pip
# does not pull a multi-GB CUDA build), build the index of seeds/ and answer a sample question.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/pip install -q "torch==2.13.0"
# llama-cpp-python compiles from source here (~20 min on 2 cores the first time; pip caches the wheel)
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} .venv/bin/pip install -q -e ".[test]"
.venv/bin/rag index
DEFAULT_QUESTION="What is China's aluminum production ceiling?"
.venv/bin/rag ask "${1:-$DEFAULT_QUESTION}"
