#!/usr/bin/env bash
# Issue #18's one accelerator run: install DiMO with the CUDA extra if JAX sees no GPU yet,
# then benchmarks/gpu_check.py (tests, step costs, a few meta-steps of configs/gpu.py and
# configs/default.py, one epoch of `dimo train --preset nas-bench-201`); the JSON lands in
# results/benchmarks/gpu_check_<platform>.json.
#   bash benchmarks/gpu_check.sh                     # on the accelerator machine
#   bash benchmarks/gpu_check.sh --configs smoke     # the same run at the tests' sizes (CPU)
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v nvidia-smi > /dev/null && ! python -c "import jax, sys; sys.exit(jax.default_backend() != 'gpu')" 2> /dev/null; then
  pip install -q -e '.[cuda,test]'
fi
exec python -m benchmarks.gpu_check "$@"
