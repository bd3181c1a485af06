"""Issue #15's test, read off `dimo ablate --json` files: does the learned recipe beat Adam?

    python -m research.lopt.ablation_report results/lopt_ablations/lopt_seed1_cifar10.json [more.json ...]

One markdown row per (file, horizon): test accuracy and validation loss, mean ± std over the
ablation's seeds, of learned/teacher, learned/ce and Adam/CE tuned on the meta-training
datasets (and on the evaluated dataset, where the file has that row), the learned rows'
differences to the meta-tuned Adam (test accuracy / validation loss), then the verdict of
the acceptance for learned/teacher (and the same test for learned/ce): a lower validation
loss *and* a higher test accuracy than that Adam row, each by more than one standard error
of the difference of the two means (``sqrt(s1^2 / n + s2^2 / n)``, n seeds).

    python -m research.lopt.ablation_report --over_runs results/lopt_ablations/recipe_seed{1,2,3,4,5}_cifar10.json

With ``--over_runs`` the files are read as meta-training runs of one config (one file each,
on one kind of cell: each run's proposal, or one fixed cell), and the unit is the run: per
horizon, the mean over runs of learned/teacher minus meta-tuned Adam (test accuracy,
validation loss), its standard error over runs (``std / sqrt(runs)``), and how many runs
are ahead in both metrics and how many meet the bar above. A recipe that beats Adam only
for lucky meta-training seeds shows here as a mean within its standard error.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path


def find_row(table, optimizer, loss, tuned_on=None):
    """The row of ``optimizer``/``loss`` (the learned rows have no tuning), or None."""
    return next((row for row in table if (row["optimizer"], row["loss"], row["tuned_on"])
                 == (optimizer, loss, tuned_on)), None)


def learned_and_adam(report: dict, where: str) -> tuple[dict, dict]:
    """The learned/teacher row and the Adam/CE row tuned on the meta-training datasets that
    #15's test compares, or ValueError naming ``where`` and the fix."""
    learned = find_row(report["table"], "learned", "teacher")
    adam = find_row(report["table"], "adam", "ce", "meta-training datasets")
    if learned is None or adam is None:
        raise ValueError(f"{where} has no learned/teacher or no Adam/CE row tuned on the meta-training "
                         "datasets; run dimo ablate with --combos including learned/teacher,adam/ce")
    return learned, adam


def beats(a: dict, b: dict, metric: str, n: int, higher_is_better: bool) -> bool:
    """Mean of ``a`` better than ``b``'s by more than one standard error of the difference."""
    diff = a[metric] - b[metric]
    se = math.sqrt((a[metric + "_std"] ** 2 + b[metric + "_std"] ** 2) / n)
    return (diff if higher_is_better else -diff) > se


def passes_bar(a: dict, b: dict, n: int) -> bool:
    """#15's bar at one horizon: ``a`` more accurate *and* lower in validation loss than ``b``,
    each by more than one standard error."""
    return beats(a, b, "test_accuracy", n, True) and beats(a, b, "val_loss", n, False)


def rows(path: Path) -> list[str]:
    report = json.loads(path.read_text())
    table, n = report["table"], report["seeds"]
    learned_teacher, adam_meta = learned_and_adam(report, str(path))
    learned_ce = find_row(table, "learned", "ce")
    adam_target = find_row(table, "adam", "ce", "evaluated dataset")
    out = []
    for label in report["horizons"].values():
        cells = []
        for row in (learned_teacher, learned_ce, adam_meta, adam_target):
            at = row["at"][label] if row else None
            cells.append(f"{at['test_accuracy']:.3f} ± {at['test_accuracy_std']:.3f} / "
                         f"{at['val_loss']:.3f} ± {at['val_loss_std']:.3f}" if at else "-")
        lt, am = learned_teacher["at"][label], adam_meta["at"][label]
        for row in (learned_teacher, learned_ce):  # differences to meta-tuned Adam
            at = row["at"][label] if row else None
            cells.append(f"{at['test_accuracy'] - am['test_accuracy']:+.3f} / "
                         f"{at['val_loss'] - am['val_loss']:+.3f}" if at else "-")
        verdicts = [("yes" if passes_bar(row["at"][label], am, n) else "no") if row else "-"
                    for row in (learned_teacher, learned_ce)]
        out.append(f"| {path.stem} | {label} ({lt['steps']}) | " + " | ".join(cells + verdicts) + " |")
    return out


def over_runs(paths: list[Path]) -> list[str]:
    """Rows of the learned/teacher - meta-tuned Adam difference with the run as the unit."""
    reports = [json.loads(path.read_text()) for path in paths]
    compared = [learned_and_adam(report, str(path)) for path, report in zip(paths, reports)]
    labels = [label for label in reports[0]["horizons"].values()
              if all(label in report["horizons"].values() for report in reports)]
    out = []
    for label in labels:
        diffs, ahead, bar = {"test_accuracy": [], "val_loss": []}, 0, 0
        for report, (learned, adam) in zip(reports, compared):
            lt, am = learned["at"][label], adam["at"][label]
            for metric in diffs:
                diffs[metric].append(lt[metric] - am[metric])
            ahead += diffs["test_accuracy"][-1] > 0 and diffs["val_loss"][-1] < 0
            bar += passes_bar(lt, am, report["seeds"])
        cells = []
        for values in diffs.values():
            std = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):+.4f} ± {std / math.sqrt(len(values)):.4f}")
        out.append(f"| {label} | {len(reports)} | " + " | ".join(cells) + f" | {ahead} | {bar} |")
    return out


def ablation_files(argv, description: str, over_runs_flag: bool = False):
    """The command line's ablation files, or None after one error line if one is missing; with
    ``over_runs_flag``, (files, whether --over_runs was given)."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    if over_runs_flag:
        parser.add_argument("--over_runs", action="store_true",
                            help="one file per meta-training run; report the difference to Adam over runs")
    args = parser.parse_args(argv)
    files = args.files
    missing = next((path for path in files if not path.is_file()), None)
    if missing is not None:
        print(f"error: no ablation file {missing}; write one with `dimo ablate ... --json > {missing}`",
              file=sys.stderr)
        return None
    return (files, args.over_runs) if over_runs_flag else files


def main(argv=None) -> int:
    parsed = ablation_files(argv, __doc__, over_runs_flag=True)
    if parsed is None:
        return 2
    files, pooled = parsed
    try:
        lines = over_runs(files) if pooled else [line for path in files for line in rows(path)]
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if pooled:
        print("| horizon | runs | test accuracy: learned/teacher - meta-tuned Adam, mean ± SE over runs "
              "| validation loss: the same | runs ahead in both | runs past the one-SE bar in both |")
        print("|---|---|---|---|---|---|")
        print("\n".join(lines))
        return 0
    print("| ablation | horizon (steps) | learned/teacher | learned/CE | Adam/CE tuned on meta-training "
          "| Adam/CE tuned on the dataset | learned/teacher - that Adam | learned/CE - that Adam "
          "| learned/teacher beats meta-tuned Adam by > 1 SE | learned/CE does |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("| | | test acc / val loss, mean ± std | | | | test acc / val loss | | | |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)
