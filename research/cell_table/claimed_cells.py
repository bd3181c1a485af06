"""The cells of docs/results.md's current claims, which stage 2 of the top judge judges too.

    python -m research.cell_table.claimed_cells     # writes research/cell_table/claimed_cells.json

research/PROTOCOL.md fixes which claims are current: section 3.2's proposals (the ``propose10``
runs), 3.3's 600 s searches, 4.1's ``dimo compare`` rows and 5.2's proposals and random-search
cell (the ``recipe_seed*`` ablations). Every cell is read from the committed result that states
it, and listed with where it comes from.
"""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS = REPO / "results"
OUT = Path(__file__).with_name("claimed_cells.json")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def claimed() -> dict[str, dict[str, list[str]]]:
    """{dataset: {genotype: [where it is claimed]}}."""
    cells: dict[str, dict[str, list[str]]] = {}

    def add(dataset, genotype, where):
        cells.setdefault(dataset, {}).setdefault(genotype, []).append(where)

    for row in _jsonl(RESULTS / "proposals" / "proposals.jsonl"):
        if row["meta_training_run"].startswith("propose10_seed"):
            for dataset, proposal in row["proposals"].items():
                add(dataset, proposal["genotype"], f"3.2 {row['meta_training_run']}")
    for row in _jsonl(RESULTS / "searches" / "searches.jsonl"):
        if row["budget_s"] == 600.0:
            add(row["dataset"], row["genotype"], f"3.3 {row['method']} seed {row['seed']} at 600 s")
    for folder in sorted((RESULTS / "compare").iterdir()):
        result = json.loads((folder / "compare.json").read_text())
        for row in result["rows"]:
            add(result["dataset"], row["genotype"], f"4.1 compare {row['method']} seed {row['seed']}")
    for path in sorted(p for p in (RESULTS / "lopt_ablations").glob("recipe_seed[0-9]_*.json")
                       if not p.name.endswith(".manifest.json")):
        result = json.loads(path.read_text())
        add(result["dataset"], result["genotype"], f"5.2 {path.stem}")
    return cells


def main() -> int:
    from dimo.infra.manifest import write_manifest

    cells = claimed()
    OUT.write_text(json.dumps(cells, indent=1) + "\n")
    write_manifest(OUT)
    print({d: len(c) for d, c in cells.items()}, "->", OUT.relative_to(REPO))
    return 0


if __name__ == "__main__":
    from research import script

    script.run(main)
