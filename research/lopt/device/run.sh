#!/bin/bash
# The study's baselines on a lent GPU machine, in one call (research/lopt/device/pack.py first):
#   device run: bash research/lopt/device/run.sh [GRIDS_S] [EVAL_S] [LEARNED_S]   carry: .devdata .whl
# LEARNED_S > 0 first trains the learned optimizer's rows of the kept meta-trainings
# (results/lopt_leave_one_out/systems/, in the checkout), one process a dataset, under that limit;
# STUDY=ten: the second judged run's (results/lopt_leave_one_out/ten/systems/; leave_one_out.STUDIES).
# Six processes (one per dataset) train the tuning grids, then six the chosen trainings, each
# phase under a time limit; the new cache lines come back in $OUT/new_trainings.jsonl (append
# them with python -m research.lopt.device.merge FILE), the logs in $OUT/logs.txt. DATASETS=... for fewer;
# WIDTH=42 trains a grid a horizon a program (a 210-wide program runs every member to 10H's
# length and writes nothing until its end: on 2026-12-04, six of them wrote nothing in 300 s).
# SERIAL=1: one process a phase, the datasets one after another under the phase's one time limit
# (the last may get none); six processes time-share the GPU: on 2026-12-04, 42 members x 400
# steps took 57 s of training in one of six, 0.14 s a step.
case "${SERIAL:-0}" in 0|1) ;; *) echo "error: SERIAL=$SERIAL: 1 (one process, datasets in turn) or 0 (one a dataset)"; exit 2;; esac
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
export JAX_COMPILATION_CACHE_DIR=/tmp/jaxcache JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0
export JAX_DEFAULT_MATMUL_PRECISION=highest  # fp32 arithmetic as on a CPU, the lone fallbacks too (a GPU's default is TF32)
GRIDS_S=${1:-300}; EVAL_S=${2:-150}; LEARNED_S=${3:-0}
PHASES="grids evaluations"; [ "$LEARNED_S" -gt 0 ] 2>/dev/null && PHASES="learned $PHASES"
DATASETS=${DATASETS:-"digits mnist fashion_mnist kmnist tiny_imagenet20 cifar10"}
nvidia-smi -L; python3 -c "import jax; print(jax.__version__, jax.devices())" || exit 1
P=/tmp/parts L=/tmp/logs; mkdir -p $P $L
# Seconds: is a vmapped (grouped) convolution slow here too? (benchmarks/vmapped_conv.py)
timeout 90 python3 -m benchmarks.vmapped_conv --out $OUT/vmapped_conv_gpu.json > $L/vmapped_conv.log 2>&1 || true
START=$(date +%s)
merge() {  # each part's lines past the cache it started from, complete ones only
  for d in $P/*/; do [ -f $d/before ] && tail -n +$(( $(cat $d/before) + 1 )) $d/trainings.jsonl | grep '}$' > $d/new.jsonl; done
}
for phase in $PHASES; do
  LIMIT=$GRIDS_S; [ $phase = evaluations ] && LIMIT=$EVAL_S; [ $phase = learned ] && LIMIT=$LEARNED_S
  NAMES=$DATASETS; [ "${SERIAL:-0}" = 1 ] && NAMES=$(echo $DATASETS | tr ' ' ',')
  for d in $NAMES; do
    timeout $LIMIT python3 -m research.lopt.device.worker $phase $d $P > $L/${phase}_$d.log 2>&1 &
  done
  wait; merge; echo "$phase done at $(( $(date +%s) - START )) s"; wc -l $P/${phase}_*/new.jsonl
done
cat $P/*/new.jsonl > $OUT/new_trainings.jsonl; wc -l $OUT/new_trainings.jsonl
for f in $L/*.log; do echo "== $f"; grep -v "WARNING\|^$" $f | tr '\r' '\n' | tail -n 40; done > $OUT/logs.txt
