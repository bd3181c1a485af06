#!/usr/bin/env bash
# The XLA flags tests/conftest.py adds for the test suite, against the suite's older set:
# the smoke meta-training run from an empty compilation cache, alternated, twice each.
#   bash tools/xla_flags_for_tests.sh        (about 4 minutes here)
# Prints each run's compile time (trace, lowering and XLA) and median meta-step time from
# its summary.json.
set -euo pipefail
cd "$(dirname "$0")/.."
older="--xla_force_host_platform_device_count=4 --xla_backend_optimization_level=0"
suite="$older --xla_cpu_use_fusion_emitters=false --xla_cpu_enable_concurrency_optimized_scheduler=false"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for round in 1 2; do
  for name in older suite; do
    flags=${!name}
    XLA_FLAGS="$flags" DIMO_CACHE_DIR="$scratch/cache_${name}_$round" python train_meta.py \
      --config configs/smoke.py --workdir "$scratch/run_${name}_$round" --progress=false > /dev/null 2>&1
    python -c "import json, sys; t = json.load(open(sys.argv[1]))['timing']
print(f\"{sys.argv[2]:6s} compile_s {t['compile_s']:5.1f}  median_step_s {t['median_step_s']:.2f}\")" \
      "$scratch/run_${name}_$round/summary.json" "$name"
  done
done
