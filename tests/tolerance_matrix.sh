#!/usr/bin/env bash
# The whole suite under other kernels and thread counts, each run logging how close every numeric check came
# to its bound; then the audit table (tests/tolerance_audit.py). About 15 minutes on 2 cores.
#   ATEN_CPU_CAPABILITY: PyTorch's vectorised kernels (avx512, avx2, default = no SIMD beyond SSE)
#   ONEDNN_MAX_CPU_ISA: oneDNN's convolutions and matrix products
#   OMP_NUM_THREADS: PyTorch's threads, and ONNX Runtime's (handgraph passes it on)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/tolerance_matrix}
mkdir -p "$out"
rm -f "$out"/*.jsonl
run() {
    local name=$1
    shift
    echo "== $name: $*"
    env "$@" HANDGRAPH_TOLERANCE_LOG="$out/$name.jsonl" .venv/bin/python -m pytest -q -p no:cacheprovider 2>&1 | tail -n 3
}
run threads-2 OMP_NUM_THREADS=2
run threads-1 OMP_NUM_THREADS=1
run avx2-2 OMP_NUM_THREADS=2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
run sse-1 OMP_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default ONEDNN_MAX_CPU_ISA=SSE41
.venv/bin/python tests/tolerance_audit.py "$out"/threads-2.jsonl "$out"/threads-1.jsonl "$out"/avx2-2.jsonl "$out"/sse-1.jsonl
