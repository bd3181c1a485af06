#!/usr/bin/env bash
# The System meta-validation results research/lopt/PROTOCOL.md still needs (#38), in order.
#
#   DIMO_DATA_DIR=../shared/data bash research/lopt/system_queue.sh [JOBS]   # JOBS side by side (default 1)
#
# One line a result: variant, config, fold, seed, then config overrides. A result already in
# results/lopt_leave_one_out/meta_validation.jsonl ends at once with an `error:` line naming it;
# a meta-training cut off resumes from its workdir. Logs: logs/system_<variant>_<fold>_<seed>.log.
set -u
JOBS=${1:-1}
mkdir -p logs
grep -v '^#' <<'RUNS' | xargs -P "$JOBS" -L 1 bash -c 'variant=$0 config=$1 fold=$2 seed=$3; shift 3
    log="logs/system_${variant}_${fold}_${seed}.log"
    python -m research.lopt.meta_validate --variant "$variant" --config "$config" --fold "$fold" --seed "$seed" \
        ${1:+--} "$@" > "$log" 2>&1
    echo "$variant $fold $seed: $(tail -n 1 "$log")"'
# scheduled_200 first, seed 0 on every fold before seed 1: the variant nearest its baseline by design
scheduled_200 research/lopt/configs/scheduled.py fashion_mnist 0
scheduled_200 research/lopt/configs/scheduled.py kmnist 0
scheduled_200 research/lopt/configs/scheduled.py digits 0
scheduled_200 research/lopt/configs/scheduled.py mnist 0
scheduled_200 research/lopt/configs/scheduled.py fashion_mnist 1
scheduled_200 research/lopt/configs/scheduled.py kmnist 1
scheduled_200 research/lopt/configs/scheduled.py digits 1
scheduled_200 research/lopt/configs/scheduled.py mnist 1
# 2026-12-05, pre-registered in research/lopt/README.md: the task-breadth hypothesis (#38 deliverable 2)
scheduled_colour_200 research/lopt/configs/scheduled_colour.py kmnist 0
scheduled_colour_200 research/lopt/configs/scheduled_colour.py fashion_mnist 0
scheduled_colour_200 research/lopt/configs/scheduled_colour.py digits 0
scheduled_colour_200 research/lopt/configs/scheduled_colour.py mnist 0
scheduled_colour_200 research/lopt/configs/scheduled_colour.py kmnist 1
scheduled_colour_200 research/lopt/configs/scheduled_colour.py fashion_mnist 1
scheduled_colour_200 research/lopt/configs/scheduled_colour.py digits 1
scheduled_colour_200 research/lopt/configs/scheduled_colour.py mnist 1
# 2026-12-05 (afternoon), pre-registered in research/lopt/README.md: the task-size hypothesis (#38 deliverable 2)
scheduled_large_200 research/lopt/configs/scheduled_large.py kmnist 0
scheduled_large_200 research/lopt/configs/scheduled_large.py fashion_mnist 0
scheduled_large_200 research/lopt/configs/scheduled_large.py digits 0
scheduled_large_200 research/lopt/configs/scheduled_large.py mnist 0
scheduled_large_200 research/lopt/configs/scheduled_large.py kmnist 1
scheduled_large_200 research/lopt/configs/scheduled_large.py fashion_mnist 1
scheduled_large_200 research/lopt/configs/scheduled_large.py digits 1
scheduled_large_200 research/lopt/configs/scheduled_large.py mnist 1
# 2026-12-05 (10e3bd7, 13:51), pre-registered in research/lopt/README.md: the class-count hypothesis (#38 deliverable 2)
scheduled_ten_200 research/lopt/configs/scheduled_ten.py kmnist 0
scheduled_ten_200 research/lopt/configs/scheduled_ten.py fashion_mnist 0
scheduled_ten_200 research/lopt/configs/scheduled_ten.py digits 0
scheduled_ten_200 research/lopt/configs/scheduled_ten.py mnist 0
scheduled_ten_200 research/lopt/configs/scheduled_ten.py kmnist 1
scheduled_ten_200 research/lopt/configs/scheduled_ten.py fashion_mnist 1
scheduled_ten_200 research/lopt/configs/scheduled_ten.py digits 1
scheduled_ten_200 research/lopt/configs/scheduled_ten.py mnist 1
# Not run before the study (2026-12-04, research/lopt/PROTOCOL.md, Changes): on every fold and seed both
# have, scheduled_200 leads them (v1 4 of 4 pairs, stretch 1 of 1, in validation accuracy at H and 2H).
# Kept as the Adam base's ablation (stretch) and #36's lifetime variant (v1): uncomment to run.
#stretch_200 research/lopt/configs/stretch.py fashion_mnist 1
#stretch_200 research/lopt/configs/stretch.py kmnist 0
#stretch_200 research/lopt/configs/stretch.py kmnist 1
#stretch_200 research/lopt/configs/stretch.py digits 0
#stretch_200 research/lopt/configs/stretch.py digits 1
#stretch_200 research/lopt/configs/stretch.py mnist 0
#stretch_200 research/lopt/configs/stretch.py mnist 1
# v1's kmnist and fashion_mnist results read #36's meta-validation runs, meta-trained with these overrides
#v1_propose_200 research/proposals/configs/propose.py digits 0 --config.meta.steps=200 --config.meta.lr_decay_steps=200
#v1_propose_200 research/proposals/configs/propose.py digits 1 --config.meta.steps=200 --config.meta.lr_decay_steps=200
#v1_propose_200 research/proposals/configs/propose.py mnist 0 --config.meta.steps=200 --config.meta.lr_decay_steps=200
#v1_propose_200 research/proposals/configs/propose.py mnist 1 --config.meta.steps=200 --config.meta.lr_decay_steps=200
RUNS
