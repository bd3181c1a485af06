"""Every claimed cell on the top judge, beside the trivial and transferred cells (issue #35 item 4).

    python -m research.cell_table.claims_beside --dataset fashion_mnist
    DIMO_DATA_DIR=../shared/data python -m research.cell_table.claims_beside --dataset cifar10 --train

For each cell a claim of docs/results.md judges on the dataset (``claimed_cells.json``), its row
of the dataset's stage-2 table (protocol C, seeds 0-2: a claim whose network another string
stands for is read from that row), with the all-``nor_conv_3x3`` cell's and the transferred
cell's figures on the same judge and the differences. The transferred cell
(``results/comparison/transferred_cell.json``) is usually not among a table's judged cells;
``--train`` trains it under C with seeds 0-2 (``results/cell_table/beside_runs.csv``, resumable),
outside the table's percentiles. Writes ``results/cell_table/claims_<dataset>_C.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from dimo.infra.manifest import write_manifest

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results" / "cell_table"
CLAIMED = Path(__file__).with_name("claimed_cells.json")
TRANSFERRED = REPO / "results" / "comparison" / "transferred_cell.json"
from research.baselines import ALL_3X3  # noqa: E402 (the trivial cell)


def table_rows(path: Path) -> tuple[dict, dict[str, dict]]:
    """(header, {genotype: row}) of a stage-2 table; every claimed string it stands for maps to its row."""
    lines = path.read_text().splitlines()
    header = dict(line[1:].split(":", 1) for line in lines if line.startswith("#"))
    header = {k.strip(): v.strip() for k, v in header.items()}
    rows = {}
    for row in csv.DictReader(line for line in lines if not line.startswith("#")):
        tests = [float(row[k]) for k in row if k.startswith("test_seed")]
        row = {**row, "tests": tests}
        rows[row["genotype"]] = row
        for alias in filter(None, row.get("stands_for", "").split(";")):
            rows[alias] = row
    return header, rows


def _figure(tests) -> str:
    return f"{np.mean(tests):.4f} ± {np.std(tests, ddof=1) / np.sqrt(len(tests)):.4f}"


def _delta(tests, other) -> str:
    return "n/a" if other is None else f"{np.mean(tests) - np.mean(other):+.4f}"


def markdown(dataset: str, header: dict, rows: dict, claimed: dict, transferred: tuple[str, list] | None) -> str:
    base = rows[ALL_3X3]["tests"]
    t_cell, t_tests = transferred if transferred else (None, None)
    lines = [f"Claims on {dataset} under the top judge (protocol {header.get('protocol', 'C')}, "
             f"{header.get('seeds', 3)} seeds; table status: {header.get('status', '?')}; a cell's SE "
             f"{header.get('se_of_cell_mean_median', '?')} median). all-`nor_conv_3x3`: {_figure(base)} "
             f"(percentile {rows[ALL_3X3]['percentile']}); transferred cell "
             + (f"`{t_cell}`: {_figure(t_tests)}" if t_cell else "not yet chosen") + ".", "",
             "| claim | cell | test accuracy (mean ± SE) | percentile [95% CI] | vs all-3x3 | vs transferred |",
             "|---|---|---|---|---|---|"]
    for genotype, where in claimed.items():
        row = rows.get(genotype)
        cell = "`" + genotype.replace("|", "\\|") + "`"
        if row is None:
            lines.append(f"| {'; '.join(where)} | {cell} | not judged yet | | | |")
            continue
        lines.append(f"| {'; '.join(where)} | {cell} | {_figure(row['tests'])} | {row['percentile']} "
                     f"[{row['percentile_lo95']}, {row['percentile_hi95']}] | {_delta(row['tests'], base)} | "
                     f"{_delta(row['tests'], t_tests)} |")
    return "\n".join(lines)


def transferred_tests(dataset: str, rows: dict, train: bool, data_dir=None) -> tuple[str, list] | None:
    if not TRANSFERRED.is_file():
        return None
    genotype = json.loads(TRANSFERRED.read_text())["genotype"]
    if genotype in rows:
        return genotype, rows[genotype]["tests"]
    from dimo.evaluation import judge

    log = judge.TrainingLog(RESULTS / "beside_runs.csv", reuse=[RESULTS / "top_judge_runs.csv"])
    if not train and not all((dataset, "C", genotype, s) in log.done for s in range(3)):
        return genotype, None
    from datasets_meta import load

    from dimo.infra.looks import record

    record(dataset, {}, what="claims_beside --train: the transferred cell's test accuracies under C")  # if held out
    loaded = load(dataset, data_dir, image_size=judge.PROTOCOLS["C"]["image_size"])
    return genotype, log.judge(genotype, loaded, "C", range(3))["test_accuracy_per_seed"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True)
    p.add_argument("--train", action="store_true", help="train the transferred cell if the table lacks it")
    p.add_argument("--data_dir", default=None)
    args = p.parse_args(argv)
    path = RESULTS / f"top_judge_{args.dataset}_C_stage2.csv"
    if not path.is_file():
        print(f"error: no stage-2 table for {args.dataset} ({path.name}); build it with python -m "
              f"research.cell_table.top_judge --dataset {args.dataset} --protocol C", file=sys.stderr)
        return 2
    header, rows = table_rows(path)
    claimed = json.loads(CLAIMED.read_text()).get(args.dataset, {})
    transferred = transferred_tests(args.dataset, rows, args.train, args.data_dir)
    if transferred and transferred[1] is None:
        print(f"note: the transferred cell is not trained on {args.dataset} yet; --train trains it", file=sys.stderr)
        transferred = (transferred[0], None)
    text = markdown(args.dataset, header, rows, claimed, transferred if transferred and transferred[1] else None)
    out = RESULTS / f"claims_{args.dataset}_C.md"
    out.write_text(text + "\n")
    write_manifest(out, table=path.name)
    print(text)
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)
