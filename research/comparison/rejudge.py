"""A later recommended recipe's ``propose`` judged against the first comparison's baselines
(research/comparison/PROTOCOL.md, *Changes*, 2026-12-05).

    DIMO_DATA_DIR=../shared/data python -m research.comparison.rejudge --dataset cifar10 [--dry_run]
    python -m research.comparison.report results/comparison/recommended_ce/{cifar10,tiny_imagenet20}/compare.json \\
        --out results/comparison/recommended_ce --meta_training_s S0,S1,S2

The first comparison (``research.comparison.run``) judged the teacher recipe; DiMO now ships the
cross-entropy one. This meta-trains the recommended config with seeds 0, 1, 2 on the
meta-training datasets (each finished run kept in ``results/comparison/<tag>/systems/seed<r>``, so
the judged systems outlive the machine, unlike the first comparison's), has each run propose
(``--rank 9``) for the held-out dataset, trains that cell under C with the run's seeds
``1000 (r + 1) + k``, and writes ``results/comparison/<tag>/<dataset>/compare.json``: these
``propose`` rows beside the first comparison's judged baselines, reused as they are (same
searches, budgets, seeds and judge). ``propose-verify`` is not judged (the pre-registration says
why). Resumable: the runs from their workdirs or kept copies, the judging from its log.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from research import meta_runs, protocol
from research.comparison import run as first

TAG = "recommended_ce"  # the recipe shipped since 2026-12-05: inner.loss = "ce"
NOT_CARRIED = ("propose-verify",)  # DiMO's entries of the first comparison not judged again
JUDGED = ("propose",)


def kept_dir(seed: int, results: Path = first.RESULTS, tag: str = TAG) -> Path:
    return results / "comparison" / tag / "systems" / f"seed{seed}"


def systems(runs_root: Path, data_dir=None, tag: str = TAG) -> tuple[list, list[float]]:
    """The recipe's runs r = 0, 1, 2 (meta-trained, resumed or read from their kept copies) and
    their meta-training seconds."""
    from dimo.meta import trained

    loaded, seconds = [], []
    for seed in first.RUNS:
        kept = kept_dir(seed, tag=tag)
        seconds.append(meta_runs.meta_train(first.CONFIG, protocol.META_TRAINING, seed,
                                            runs_root / f"{tag}_seed{seed}", data_dir=data_dir, kept=kept))
        loaded.append(trained.load(kept))
    return loaded, seconds


def merged(new: dict, earlier: dict, earlier_path: Path, run_names: list[str]) -> dict:
    """The new ``propose`` rows with the earlier comparison's baselines: every row of ``earlier``
    but DiMO's, which the new runs replace (``propose``) or which are not judged again."""
    from dimo.studies import compare

    shared = ("dataset", "judge", "budget_s", "seeds", "rank")  # what pairs run r with search seed r
    differ = [k for k in shared if k in new and new[k] != earlier.get(k)]
    if differ:
        what = ", ".join(f"{k} ({earlier.get(k)!r} against {new[k]!r})" for k in differ)
        raise ValueError(f"{earlier_path} and the new rows differ in {what}: they cannot stand side by side")
    rows = [r for r in new["rows"] if r["method"] in JUDGED]
    rows += [r for r in earlier["rows"] if r["method"] not in JUDGED + NOT_CARRIED]
    return {**earlier, "verify": 0, "meta_training_runs": run_names, "rows": rows,
            "summary": compare.summarize(rows),
            "baselines_from": {"path": str(earlier_path.relative_to(first.REPO)),
                               "meta_training_runs": earlier["meta_training_runs"],
                               "not_carried_over": list(NOT_CARRIED)}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, help=f"a held-out dataset: {', '.join(protocol.HELD_OUT)}")
    p.add_argument("--runs_root", default=str(first.REPO / "runs" / "comparison"), help="the meta-training runs' folder")
    p.add_argument("--data_dir", default=None)
    p.add_argument("--dry_run", action="store_true", help="check the preconditions and say what would run")
    args = p.parse_args(argv)
    if args.dataset not in protocol.HELD_OUT:
        print(f"error: the comparison judges held-out datasets ({', '.join(protocol.HELD_OUT)}), got "
              f"{args.dataset!r}", file=sys.stderr)
        return 2
    earlier_path = first.RESULTS / "comparison" / args.dataset / "compare.json"
    out = first.RESULTS / "comparison" / TAG / args.dataset
    try:
        table = first.stage2_table(args.dataset)
        first.committed([earlier_path])
        earlier = json.loads(earlier_path.read_text())
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"meta-training: {first.CONFIG} on {','.join(protocol.META_TRAINING)}, seeds {first.RUNS}, kept in "
          f"{kept_dir(0).parent}; then propose --rank {first.RANK} for {args.dataset}, judged under {first.JUDGE}; "
          f"baselines from {earlier_path.relative_to(first.REPO)}; into {out}")
    if args.dry_run:
        return 0
    try:
        runs, seconds = systems(Path(args.runs_root), args.data_dir)
    except (subprocess.CalledProcessError, ValueError, OSError) as e:
        print(f"error: meta-training or loading a kept run: {e}; the same command resumes it", file=sys.stderr)
        return 2
    result = judge_proposals(runs, args.dataset, args.data_dir, table, out)
    combined = merged(result, earlier, earlier_path, [f"{TAG}_seed{s}" for s in first.RUNS])
    write(combined, out, runs[0].config, seconds)
    print("statistics: python -m research.comparison.report", out / "compare.json", "(and the other dataset's)",
          "--out", out.parent, "--meta_training_s", ",".join(f"{s:.0f}" for s in seconds))
    return 0


def judge_proposals(runs, dataset: str, data_dir, table: Path, out: Path) -> dict:
    """Each run's ``propose`` for ``dataset``, trained under the judge with the run's seeds;
    the look at the test split recorded before the first training."""
    from datasets_meta import load
    from dimo.evaluation import cell_table, judge
    from dimo.infra import looks
    from dimo.studies import compare

    searched_at = load(dataset, data_dir, image_size=runs[0].config.data.image_size)
    size = judge.PROTOCOLS[first.JUDGE]["image_size"]
    judged_at = searched_at if searched_at.image_shape[0] == size else load(dataset, data_dir, image_size=size)
    reuse = [first.RESULTS / "cell_table" / "top_judge_runs.csv"]
    judging = compare.Judging(first.JUDGE, judged_at, judge.TrainingLog(out / "judge_runs.csv", reuse),
                              cell_table.read(table)[1].get(dataset, {}))
    out.mkdir(parents=True, exist_ok=True)

    def record_look():
        where = out.relative_to(first.REPO) if out.is_relative_to(first.REPO) else out
        looks.record(dataset, {}, what=f"research.comparison.rejudge: the {TAG} runs' proposals' test "
                                       f"accuracies under {first.JUDGE}, in {where}")

    return compare.compare(runs, searched_at, first.BUDGET_S, len(runs), methods=(), verify=0, judging=judging,
                           cells={}, rows_path=out / "rows.jsonl", rank=first.RANK, dataset_spec=dataset,
                           data_dir=data_dir, before_judging=record_look)


def write(result: dict, out: Path, config, seconds: list[float]) -> None:
    from dimo.infra.manifest import write_manifest
    from dimo.studies import compare

    (out / "compare.json").write_text(json.dumps(result, indent=1, default=float))
    (out / "compare.md").write_text(compare.markdown(result) + "\n")
    compare.plot(result, out / "compare.png")
    write_manifest(out / "compare.json", config=config, meta_training_s=seconds)
    # The working logs beside it (searched.jsonl, rows.jsonl, judge_runs.csv) are committed too, so
    # the same command on another machine resumes from them instead of judging (and looking) again.
    write_manifest(out, config=config, meta_training_s=seconds,
                   working_logs=["searched.jsonl", "rows.jsonl", "judge_runs.csv"])
    print(compare.markdown(result) + f"\n\nwritten: {out}/compare.md, compare.json, compare.png")


if __name__ == "__main__":
    from research import script

    script.run(main)
