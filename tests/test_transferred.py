"""The transferred cell dimo propose shows beside its own (dimo/search/transferred.py)."""

import json
from pathlib import Path

import pytest

from cli_calls import run_error, run_json
from dimo.cli import main as cli
from dimo.search import transferred
from dimo.space import search_space
from research.cell_table import noise

ROOT = Path(__file__).resolve().parents[1]
ALL_3X3 = str(search_space.Genotype(("nor_conv_3x3",) * search_space.NUM_EDGES))
A = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
A_AGAIN = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|avg_pool_3x3~2|"  # node 2 gets nothing: A's network


def _rows(path: Path) -> list[dict]:
    return [{k: row[k] for k in ("dataset", "genotype", "params", "test_mean", "test_se")} for row in noise.rows(path)]


def test_the_best_network_is_the_best_mean_over_tables_matched_by_network():
    assert search_space.Genotype.from_string(A).pruned() == search_space.Genotype.from_string(A_AGAIN).pruned()
    tables = {"fashion_mnist": {ALL_3X3: 0.91, A: 0.90, "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|": 0.99},
              "kmnist": {ALL_3X3: 0.93, A_AGAIN: 0.96}}
    assert transferred.best(tables) == A  # 0.93 against 0.92; the cell judged by one table alone is out
    assert transferred.best({"fashion_mnist": {ALL_3X3: 0.9, A: 0.9}}) == sorted([ALL_3X3, A])[0]  # a tie: one order
    with pytest.raises(ValueError, match="no cell in common"):
        transferred.best({"fashion_mnist": {ALL_3X3: 0.9}, "kmnist": {A: 0.9}})


def test_the_shipped_tables_are_the_studys_complete_meta_training_tables():
    shipped = _rows(transferred.default_path())
    study = [row for d in ("fashion_mnist", "kmnist")
             for row in _rows(ROOT / "results" / "cell_table" / f"top_judge_{d}_C_stage2.csv")]
    assert shipped == study and {r["dataset"] for r in shipped} == {"fashion_mnist", "kmnist"}


def test_beside_gives_the_studys_transferred_cell_and_both_networks_figures():
    study = json.loads((ROOT / "results" / "comparison" / "transferred_cell.json").read_text())
    out = transferred.beside(["digits", "mnist", "fashion_mnist", "kmnist"], proposed=A_AGAIN)
    assert out["genotype"] == study["genotype"] and out["taught_by"] == ["fashion_mnist", "kmnist"]
    rows = {(r["dataset"], r["genotype"]): float(r["test_mean"]) for r in _rows(transferred.default_path())}
    assert out["test_accuracy"] == {d: rows[d, study["genotype"]] for d in ("fashion_mnist", "kmnist")}
    judged_a = {d: a for (d, g), a in rows.items()
                if search_space.Genotype.from_string(g).pruned() == search_space.Genotype.from_string(A).pruned()}
    assert judged_a and out["proposed_test_accuracy"] == judged_a  # another string of a judged network
    unjudged = "|avg_pool_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|avg_pool_3x3~0|skip_connect~1|skip_connect~2|"
    assert transferred.beside(["kmnist"], proposed=unjudged)["proposed_test_accuracy"] == {}
    assert transferred.beside(["kmnist"])["taught_by"] == ["kmnist"]


def test_no_table_teaches_no_transferred_cell(smoke_workdir, capsys):
    assert transferred.beside(["digits", "mnist"]) is None and transferred.beside([]) is None
    # The smoke system meta-trained on digits alone: asked about digits, no table may teach.
    assert run_json(capsys, ["propose", "--workdir", str(smoke_workdir), "--dataset", "digits"])["transferred"] is None
    assert cli.main(["propose", "--workdir", str(smoke_workdir), "--dataset", "digits"]) == 0
    assert "transferred   none (no top-judge table" in capsys.readouterr().out


def test_the_shipped_system_shows_the_transferred_cell_beside_its_own(capsys):
    assert cli.main(["propose", "--dataset", "digits"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("transferred"))
    assert lines[at].split() == ["transferred", ALL_3X3]
    assert "top-judge tables of fashion_mnist, kmnist" in lines[at + 1]


def test_train_takes_the_transferred_cell_by_name(smoke_workdir, tmp_path, capsys):
    tiny = ["--dataset", "digits", "--epochs", "1", "--channels", "4", "--image_size", "8"]
    model = run_json(capsys, ["train", "--genotype", "transferred", *tiny, "--out", str(tmp_path / "m")])
    assert model["genotype"] == ALL_3X3  # the shipped system's, taught by fashion_mnist and kmnist
    err = run_error(capsys, ["train", "--genotype", "transferred", "--workdir", str(smoke_workdir), *tiny,
                             "--out", str(tmp_path / "none")])
    assert "teaches a transferred cell" in err and not (tmp_path / "none").exists()


def test_train_leaves_out_the_same_table_as_propose_for_a_folder(monkeypatch):
    """A folder is read by its stem, by propose and by train alike: its namesake's table never teaches."""
    import argparse

    from dimo.cli import train as train_cli

    asked = []
    monkeypatch.setattr(transferred, "beside", lambda teachers, proposed=None, path=None: asked.append(teachers) or {"genotype": ALL_3X3})
    args = argparse.Namespace(workdir=None, dataset="folder:/somewhere/kmnist")
    assert train_cli._transferred(args) == ALL_3X3
    assert asked == [["digits", "mnist", "fashion_mnist"]]
