"""The pre-registered comparison on one held-out dataset, as one command (research/comparison/PROTOCOL.md).

    DIMO_DATA_DIR=../shared/data python -m research.comparison.run --dataset cifar10 --dry_run   # what it would run
    DIMO_DATA_DIR=../shared/data python -m research.comparison.run --dataset cifar10             # hours; resumable

Everything the protocol fixes is written here once, so no hand-typed ``dimo compare`` can drift
from it: the entries (DiMO's recommended config, meta-training runs with seeds 0, 1, 2 on the
meta-training datasets; the four searches and the gradient method chosen on fashion_mnist's
validation; the uniform and the transferred cells), 600 s a search, judge C, the held-out
dataset's stage-2 table for percentiles and its trainings reused. It refuses to start before
what the protocol says comes first: the dataset's complete stage-2 table, the gradient choice,
the transferred cell. Each step resumes: meta-training runs from their workdirs, the comparison
from its folder (``dimo compare --resume``). The searches need an otherwise idle machine (their
budgets are wall clock) and come first; ``--searches_only`` stops after them, and the judging
that follows needs none. The statistics are ``research.comparison.report``'s.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from dimo.evaluation import cell_table
from research import meta_runs, protocol

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results"
CONFIG = "dimo/configs/recommended.py"  # the recipe the README names as recommended
RUNS = (0, 1, 2)  # meta-training seeds: run r pairs with search seed r
SEARCHES = ("random", "evolution", "tpe", "hyperband")
BUDGET_S = 600
JUDGE = "C"
RANK, VERIFY, VERIFY_STEPS, CANDIDATE_STEPS = 9, 9, 100, 300  # propose --rank 9, --verify 9; rungs; candidates
TRANSFERRED_FROM = ("fashion_mnist", "kmnist")  # the meta-training datasets with stage-2 tables


def stage2_table(dataset: str, results: Path = RESULTS) -> Path:
    path = results / "cell_table" / f"top_judge_{dataset}_{JUDGE}_stage2.csv"
    if not path.is_file():
        raise ValueError(f"no stage-2 table for {dataset}: the protocol compares only after it is complete "
                         f"(python -m research.cell_table.top_judge --dataset {dataset} --protocol {JUDGE})")
    status = cell_table.read(path)[0].get("status")
    if status != "complete":
        raise ValueError(f"{path.name} is {status or 'of unknown status'}: the protocol compares only after "
                         f"it is complete; resume python -m research.cell_table.top_judge --dataset {dataset}")
    return path


def gradient_method(results: Path = RESULTS) -> str:
    path = results / "comparison" / "gradient_choice.json"
    chosen = json.loads(path.read_text()).get("chosen") if path.is_file() else None
    if not chosen:
        raise ValueError("the gradient baseline is not chosen yet: run python -m research.comparison.gradient_choice "
                         "(fashion_mnist's validation, on an idle machine) first")
    return chosen


def transferred_cell(results: Path = RESULTS) -> str:
    path = results / "comparison" / "transferred_cell.json"
    if not path.is_file():
        raise ValueError("no transferred cell: run python -m research.comparison.transferred first")
    record = json.loads(path.read_text())
    if sorted(record.get("tables", [])) != sorted(TRANSFERRED_FROM):
        raise ValueError(f"{path.name} comes from the tables of {record.get('tables')}, the protocol's are "
                         f"{', '.join(TRANSFERRED_FROM)}: rerun python -m research.comparison.transferred")
    return record["genotype"]


def committed(paths) -> None:
    """The protocol fixes the gradient choice and the transferred cell *before* the held-out
    searches: each must be committed, unchanged since."""
    for path in paths:
        tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=REPO, capture_output=True)
        clean = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", str(path)], cwd=REPO)
        if tracked.returncode or clean.returncode:
            raise ValueError(f"{Path(path).relative_to(REPO)} is not committed as it is: commit it before the "
                             "comparison (the protocol fixes it first)")


def workdirs(runs_root: Path) -> list[Path]:
    return [runs_root / f"recommended_seed{seed}" for seed in RUNS]


def entries(results: Path = RESULTS) -> tuple[list[str], str]:
    """The searches (the protocol's four and the chosen gradient method) and ``--fixed_cells``."""
    return [*SEARCHES, gradient_method(results)], f"uniform,transferred={transferred_cell(results)}"


def compare_command(dataset: str, runs: list[Path], out: Path, results: Path = RESULTS) -> list[str]:
    """The ``dimo compare`` invocation the protocol fixes, after checking what must come first."""
    if dataset not in protocol.HELD_OUT:
        raise ValueError(f"the comparison judges held-out datasets ({', '.join(protocol.HELD_OUT)}), got {dataset!r}")
    # Both tables first (PROTOCOL.md: "runs only once both held-out stage-2 tables are complete").
    table = {d: stage2_table(d, results) for d in protocol.HELD_OUT}[dataset]
    methods, fixed = entries(results)
    command = [sys.executable, "-m", "dimo.cli", "compare", "--workdir", ",".join(map(str, runs)), "--dataset", dataset,
               "--budget", str(BUDGET_S), "--seeds", str(len(runs)), "--judge", JUDGE, "--methods", ",".join(methods),
               "--rank", str(RANK), "--verify", str(VERIFY), "--verify_steps", str(VERIFY_STEPS), "--candidate_steps", str(CANDIDATE_STEPS),
               "--fixed_cells", fixed,
               "--judge_runs", str(results / "cell_table" / "top_judge_runs.csv"), "--judge_table", str(table),
               "--out", str(out)]
    return command + (["--resume"] if (out / "settings.json").is_file() else [])


def searches_left(out: Path, results: Path = RESULTS) -> int:
    """Entries of the comparison in ``out`` not searched yet (in neither of its logs): while any is
    left the machine must be idle."""
    from dimo.studies import compare

    methods, fixed = entries(results)
    every = compare.units(len(RUNS), len(RUNS), methods, VERIFY, True, compare.fixed_cells(fixed))
    done = {(r["method"], r["seed"]) for name in ("searched.jsonl", "rows.jsonl")
            for r in compare.read_rows(out / name)}
    return sum(unit not in done for unit in every)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help=f"a held-out dataset: {', '.join(protocol.HELD_OUT)}")
    p.add_argument("--runs_root", default=str(REPO / "runs" / "comparison"), help="the meta-training runs' folder")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--dry_run", action="store_true", help="check the preconditions and print the commands only")
    p.add_argument("--searches_only", action="store_true", help="stop after the searches (the part that needs an "
                   "idle machine); the same command without it then trains and judges their cells on any machine")
    p.add_argument("--allow_busy", action="store_true", help="start although the machine is loaded (the searches' "
                   "budgets are wall clock: their results are then not the protocol's)")
    args = p.parse_args(argv)
    runs = workdirs(Path(args.runs_root))
    out = RESULTS / "comparison" / args.dataset
    try:
        command = compare_command(args.dataset, runs, out)
        committed([RESULTS / "comparison" / "gradient_choice.json", RESULTS / "comparison" / "transferred_cell.json"])
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    load, left = os.getloadavg()[0], searches_left(out)
    if left and load > 0.5 * (os.cpu_count() or 1) and not args.dry_run and not args.allow_busy:
        print(f"error: load average {load:.1f} on {os.cpu_count()} cores: the protocol runs the searches on an "
              "otherwise idle machine (their budgets are wall clock); stop the other work, or --allow_busy",
              file=sys.stderr)
        return 2
    if args.data_dir:
        command += ["--data_dir", args.data_dir]
    if args.searches_only:
        command.append("--searches_only")
    print(f"meta-training: {CONFIG} on {','.join(protocol.META_TRAINING)}, seeds {RUNS}, in {args.runs_root}")
    print("then:", shlex.join(command), f"({left} searches left, then the judging)" if left else "(the searches are done: the judging)")
    if args.dry_run:
        return 0
    seconds = []
    for seed, workdir in zip(RUNS, runs):
        if not left and meta_runs.finished(workdir):
            # Judging only: the runs are read, not resumed (train_meta.py's check of a finished run
            # ran when the searches did), so both held-out datasets can be judged side by side
            # without two resumes contending for one workdir.
            seconds.append(meta_runs.elapsed(workdir))
            continue
        try:  # a finished run is read, an unfinished one resumed
            seconds.append(meta_runs.meta_train(CONFIG, protocol.META_TRAINING, seed, workdir, data_dir=args.data_dir))
        except subprocess.CalledProcessError as e:
            print(f"error: meta-training seed {seed} {meta_runs.why(e)}; the same command resumes it",
                  file=sys.stderr)
            return 2
    code = subprocess.run(command, cwd=REPO).returncode
    if args.searches_only:
        return code
    print("statistics: python -m research.comparison.report", out / "compare.json",
          "--meta_training_s", ",".join(f"{s:.0f}" for s in seconds))
    return code


if __name__ == "__main__":
    from research import script

    script.run(main)
