"""``dimo compare``: DiMO's answers beside every search method, on one budget, judged alike.

Entries (each with ``seeds`` repetitions where it has a seed):

* DiMO's methods (``dimo.search.dimo_method``): ``propose``, the cell of the meta-trained
  run(s), its most probable cells reranked by the predictor (``--rank``; no search; its seconds
  are the proposal's own wall time), and
  ``propose-verify``, the N most probable cells under the decoded distribution by successive
  halving on the target's validation split (seeded);
* every other search method of ``dimo.search.registry`` with ``budget_s`` seconds of wall
  clock, compile included (seeded).

All of them are reached through ``dimo.search.registry.run``. Fixed cells (``--fixed_cells``:
the uniform cells, a transferred cell) are judged beside them, unsearched.

Every search runs first, then every chosen cell is trained from scratch and judged
(``Judging``): under the cell table's protocol with the table's seeds
(``dimo.evaluation.cell_table.train_and_judge``; a cell chosen twice is trained once), or
under a top-judge protocol (``dimo.evaluation.judge``, e.g. C, the
protocol research/comparison/PROTOCOL.md pre-registers), where each meta-training run answers on
its own, search seed ``r`` is paired with run ``r`` and run ``r``'s cells train with seeds
``1000 (r + 1) + k``. Rows: method, seed, cell, test accuracies per training seed and their
mean, its percentile among a table's cells, search seconds, and for gradient-based methods the
final mixture's mass on parameter-free ops; ``summarize`` gives each method's mean and spread
over seeds. Entries are appended to logs as they are searched and as they are judged, so a killed
comparison resumes. Run the searches on an otherwise idle machine (budgets are wall clock); the
judging, which ``searches_only`` leaves to a later call, needs none.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from dimo.search import registry as search_methods

PARAMETER_FREE_OPS = ("none", "skip_connect", "avg_pool_3x3")
UNIFORM_OPS = ("nor_conv_3x3", "nor_conv_1x1", "skip_connect", "avg_pool_3x3")


@dataclasses.dataclass
class Judging:
    """How every chosen cell is judged: ``protocol`` "table" (the cell table's, seeds 0 and 1)
    or one of ``dimo.evaluation.judge.PROTOCOLS`` (3 seeds: run ``r``'s entries with
    ``judge.run_seeds(r)``, fixed cells with 0, 1, 2), on ``dataset`` loaded at its image size.
    ``log`` keeps every training (resumable); ``table`` ({genotype: mean}) gives percentiles."""
    protocol: str = "table"
    dataset: object = None
    log: object = None
    table: dict = dataclasses.field(default_factory=dict)

    @property
    def per_run(self) -> bool:  # a top-judge comparison pairs search seed r with meta-training run r
        return self.protocol != "table"

    def cell(self, genotype: str, run: int | None) -> dict:
        from dimo.evaluation import cell_table, judge

        if self.protocol == "table":
            return cell_table.train_and_judge(genotype, self.dataset, {self.dataset.name: self.table})
        seeds = judge.run_seeds(run) if run is not None else range(3)
        out = self.log.judge(genotype, self.dataset, self.protocol, seeds)
        pct = cell_table.percentile(self.table.values(), out["test_accuracy_mean"]) if self.table else None
        return {**out, "table_percentile": pct, "table_cells": len(self.table)}


def fixed_cells(spec: str) -> dict[str, str]:
    """``--fixed_cells``: "uniform" (the four uniform cells) and NAME=GENOTYPE items, comma-separated."""
    from dimo.space import search_space

    cells = {}
    for item in (i.strip() for i in spec.split(",") if i.strip()):
        if item == "uniform":
            cells.update({f"all-{op}": str(search_space.Genotype((op,) * search_space.NUM_EDGES))
                          for op in UNIFORM_OPS})
        elif "=" in item:
            name, genotype = (x.strip() for x in item.split("=", 1))
            cells[name] = str(search_space.Genotype.from_string(genotype))
        else:
            raise ValueError(f"--fixed_cells: {item!r} is neither 'uniform' nor NAME=GENOTYPE")
    return cells


def units(runs: int, seeds: int, methods, verify: int, per_run: bool, cells) -> list[tuple[str, int | None]]:
    """(entry, seed) in the order they run; DiMO's seed is its run's index when ``per_run``."""
    dimo = [("propose", r) for r in range(runs if per_run else 1)]
    dimo += [("propose-verify", s) for s in range(runs if per_run else seeds) if verify]
    return dimo + [(m, s) for m in methods for s in range(seeds)] + [(f"cell:{c}", None) for c in cells]


def compare(runs, dataset, budget_s: float, seeds: int = 1, methods=search_methods.METHODS,
            verify: int = 9, candidate_steps: int = 300, verify_steps: int = 100, data_dir=None,
            progress: bool = True, judging: Judging | None = None, cells=None, rows_path=None,
            rank: int = 9, dataset_spec: str | None = None, searched_path=None,
            searches_only: bool = False, before_judging=None) -> dict:
    """Runs the comparison on ``dataset`` (a ``datasets_meta.Dataset`` at the searches' image
    size) for the meta-trained ``runs`` (``dimo.meta.trained.Trained``, several seeds of one recipe
    allowed; ``dataset_spec``: the name ``dataset`` was loaded by, for DiMO's proposals when it is a
    ``folder:``). ``propose`` reranks its ``rank`` most probable cells by the predictor (0: the decoded
    cell). ``cells`` ({name: genotype}) are judged beside, as they are. Every search runs first
    (the budgets are wall clock), then every cell is judged; with ``rows_path`` each judged entry is
    appended there and each searched one to ``searched_path`` (default ``searched.jsonl`` beside),
    and neither is run again. ``searches_only`` stops after the searches (the part that needs an
    idle machine); ``before_judging()`` is called once before the first training, if any."""
    from tqdm.auto import tqdm

    from dimo.evaluation import cell_table

    config, cells = runs[0].config, dict(cells or {})
    if judging is None:
        judging = Judging(dataset=dataset, table=cell_table.read()[1].get(dataset.name, {}))
    if judging.per_run and seeds != len(runs):
        raise ValueError(f"--judge {judging.protocol} pairs search seed r with meta-training run r: pass as "
                         f"many --seeds as runs (got {seeds} seed(s), {len(runs)} run(s))")
    rows = read_rows(rows_path)
    searched_path = searched_path or (Path(rows_path).with_name("searched.jsonl") if rows_path else None)
    found = {(r["method"], r["seed"]): r for r in read_rows(searched_path)}
    done, judged = {(r["method"], r["seed"]) for r in rows}, {}
    todo = [u for u in units(len(runs), seeds, methods, verify, judging.per_run, cells) if u not in done]
    # Phase 1, every search: the part whose budgets are wall clock, so the machine must be idle.
    bar = tqdm([u for u in todo if u not in found], desc="search", unit="entry", disable=not progress)
    for method, seed in bar:
        bar.set_postfix_str(f"{method} seed {seed}")
        found[method, seed] = _search(method, seed, runs, dataset, budget_s, config, judging.per_run, cells,
                                      candidate_steps=candidate_steps, data_dir=data_dir, verify=verify,
                                      verify_steps=verify_steps, rank=rank, dataset_spec=dataset_spec)
        _append(searched_path, found[method, seed])
    if searches_only:
        return {"dataset": dataset.name, "searched": len(found.keys() | done), "judged": len(rows)}
    # Phase 2, every chosen cell trained from scratch and judged: any machine.
    if todo and before_judging:
        before_judging()
    bar = tqdm(todo, desc="judge", unit="entry", disable=not progress)
    for method, seed in bar:
        bar.set_postfix_str(f"{method} seed {seed}: training its cell")
        row, run = dict(found[method, seed]), seed if judging.per_run else None
        if judging.per_run or row["genotype"] not in judged:  # the table's seeds are every entry's
            judged[row["genotype"]] = judging.cell(row["genotype"], run)
        row.update(judged[row["genotype"]])
        rows.append(row)
        _append(rows_path, row)
    order = {u: i for i, u in enumerate(units(len(runs), seeds, methods, verify, judging.per_run, cells))}
    rows.sort(key=lambda r: order.get((r["method"], r["seed"]), len(order)))
    protocol = cell_table.PROTOCOL if judging.protocol == "table" else _judge_protocol(judging.protocol)
    return {"dataset": dataset.name, "budget_s": budget_s, "seeds": seeds, "rank": rank, "verify": verify,
            "candidate_steps": candidate_steps, "judge": judging.protocol,
            # names, not paths: the command line (in the manifest) holds the paths
            "meta_training_runs": [Path(r.workdir).name for r in runs],
            "seen_in_meta_training": any(r.seen(dataset.name) for r in runs),
            "protocol": protocol, "fixed_cells": cells, "rows": rows, "summary": summarize(rows),
            "table": sorted(judging.table.values())}


def _search(method, seed, runs, dataset, budget_s, config, per_run, cells, **options) -> dict:
    """One entry's cell: a fixed cell as it is, a search method's answer with its seconds."""
    from dimo.search import discrete

    if method.startswith("cell:"):
        return {"method": method, "seed": None, "genotype": cells[method[5:]], "search_s": 0.0}
    setup = discrete.SearchSetup.from_config(config, seed=seed, budget_s=budget_s,
                                             candidate_steps=options.pop("candidate_steps"))
    mine = [runs[seed]] if per_run and method in search_methods.DIMO_METHODS else runs
    result = search_methods.run(method, dataset, setup, runs=mine, **options)
    row = {"method": method, "seed": seed, "genotype": result.genotype, "search_s": float(result.search_s),
           **{k: result.extra[k] for k in ("ranked", "verified") if k in result.extra}}
    if method in search_methods.GRADIENT_METHODS:  # the final mixture (discrete searches have none)
        row["arch_weights"] = result.arch_weights
        row["parameter_free_mass"] = parameter_free_mass(result.arch_weights)
    return row


def _append(path, row: dict) -> None:
    """One finished entry, on a line of its own (after a line a kill cut short)."""
    if not path:
        return
    cut = Path(path).is_file() and not Path(path).read_bytes().endswith(b"\n")
    with open(path, "a") as f:
        f.write(("\n" if cut else "") + json.dumps(row, default=float) + "\n")


def read_rows(path) -> list[dict]:
    """Finished entries; a line cut short by a kill is skipped (that entry runs again)."""
    rows = []
    for line in Path(path).read_text().splitlines() if path and Path(path).is_file() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def _judge_protocol(name: str) -> dict:
    from dimo.evaluation import judge

    return {**judge.describe(name), "seeds": 3}


def parameter_free_mass(arch_weights) -> float:
    """Mean over edges of the weight on ops without parameters (none, skip, pooling): the
    collapse NAS-Bench-201 reports for DARTS shows as this mass growing."""
    from dimo.space import search_space

    free = [search_space.OPS.index(op) for op in PARAMETER_FREE_OPS]
    return float(np.mean(np.sum(np.asarray(arch_weights)[:, free], -1)))


def summarize(rows: list[dict]) -> list[dict]:
    """One line per method in order of appearance: mean and sample std over its seeds of the
    test accuracy (each seed's the mean over the table's training seeds), percentile and
    search seconds."""
    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        acc = [r["test_accuracy_mean"] for r in mine]
        pct = [r["table_percentile"] for r in mine if r["table_percentile"] is not None]
        free = [r["parameter_free_mass"] for r in mine if "parameter_free_mass" in r]
        out.append({"method": method, "runs": len(mine), "test_accuracy": float(np.mean(acc)),
                    "test_accuracy_std": float(np.std(acc, ddof=1)) if len(acc) > 1 else 0.0,
                    "table_percentile": float(np.mean(pct)) if pct else None,
                    "search_s": float(np.mean([r["search_s"] for r in mine])),
                    "parameter_free_mass": float(np.mean(free)) if free else None,
                    "cells": sorted({r["genotype"] for r in mine})})
    return out


def markdown(result: dict) -> str:
    seen = " (seen in meta-training)" if result["seen_in_meta_training"] else ""
    judge = ("the cell table's protocol" if result.get("judge", "table") == "table"
             else f"the top judge's protocol {result['judge']} ({result['protocol']['image_size']}x"
                  f"{result['protocol']['image_size']}; run r's cells with seeds 1000 (r + 1) + k)")
    lines = [f"`dimo compare` on {result['dataset']}{seen}: budget {result['budget_s']:g} s a search, "
             f"{result['seeds']} seed(s); cells trained under {judge} "
             f"({result['protocol']['steps']} steps, {result['protocol']['seeds']} training seeds)", "",
             "| method | seeds | test accuracy (mean ± std over seeds) | table percentile | search s | "
             "parameter-free mass | cells |", "|---|---|---|---|---|---|---|"]
    for s in result["summary"]:
        pct = "n/a" if s["table_percentile"] is None else f"{s['table_percentile']:.1f}"
        cells = "<br>".join(f"`{c.replace('|', chr(92) + '|')}`" for c in s["cells"])
        free = "" if s["parameter_free_mass"] is None else f"{s['parameter_free_mass']:.2f}"
        lines.append(f"| {s['method']} | {s['runs']} | {s['test_accuracy']:.4f} ± {s['test_accuracy_std']:.4f} | "
                     f"{pct} | {s['search_s']:.1f} | {free} | {cells} |")
    return "\n".join(lines)


def plot(result: dict, path) -> None:
    """Test accuracy against search seconds (log scale), one point per method and seed, over
    the cell table's distribution of the dataset (band: 5th-95th percentile, line: median)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    table = np.asarray(result["table"])
    if table.size:
        low, median, high = np.percentile(table, [5, 50, 95])
        ax.axhspan(low, high, color="0.85", label=f"cell table, 5th-95th percentile ({table.size} cells)")
        ax.axhline(median, color="0.5", lw=0.8, ls="--", label="cell table median")
        ax.axhline(table.max(), color="0.5", lw=0.8, ls=":", label="cell table best")
    markers, colors = "os^vD<>phX*P", plt.get_cmap("tab20").colors
    for i, method in enumerate(dict.fromkeys(r["method"] for r in result["rows"])):
        mine = [r for r in result["rows"] if r["method"] == method]
        ax.scatter([max(r["search_s"], 1e-2) for r in mine], [r["test_accuracy_mean"] for r in mine],
                   marker=markers[i % len(markers)], color=colors[(2 * i) % 20 + (i >= 10)], s=40,
                   label=method, zorder=3)
    ax.set_xscale("log")
    ax.set_xlabel("search seconds (log; compile included)")
    judge = result.get("judge", "table")
    ax.set_ylabel(f"test accuracy, {'table protocol' if judge == 'table' else f'judge {judge}'} (mean of its seeds)")
    ax.set_title(f"{result['dataset']}: budget {result['budget_s']:g} s", fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: points stay visible
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
