"""The comparison study's scripts: the transferred cell from complete meta-training tables."""

import numpy as np
import pytest

from research.cell_table import build
from research.comparison import transferred

A = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
B = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"
C = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def _table(folder, dataset, means, status="complete"):
    rows = [{"dataset": dataset, "genotype": g, "test_mean": f"{m:.4f}"} for g, m in means.items()]
    build.write_table(folder / f"top_judge_{dataset}_C_stage2.csv", {"dataset": dataset, "status": status},
                      rows, ["dataset", "genotype", "test_mean"])


def test_the_transferred_cell_is_the_best_shared_cell_of_complete_meta_training_tables(tmp_path):
    _table(tmp_path, "fashion_mnist", {A: 0.90, B: 0.89, C: 0.95})  # C: judged by one table only
    _table(tmp_path, "kmnist", {A: 0.93, B: 0.95})
    tables = transferred.read_tables(["fashion_mnist", "kmnist"], tmp_path)
    assert transferred.baselines.transferred_cell(tables) == B  # 0.92 against 0.915
    _table(tmp_path, "kmnist", {A: 0.93}, status="being built: 1 of 23 judged cells done")
    with pytest.raises(ValueError, match="being built"):
        transferred.read_tables(["fashion_mnist", "kmnist"], tmp_path)
    with pytest.raises(ValueError, match="held out"):
        transferred.read_tables(["fashion_mnist", "cifar10"], tmp_path)
    with pytest.raises(ValueError, match="no stage-2 table for mnist"):
        transferred.read_tables(["mnist"], tmp_path)


def test_meta_validation_judges_the_proposal_on_the_folds_validation_split(smoke_workdir, monkeypatch, tmp_path):
    import argparse
    import json

    from dimo.evaluation import judge
    from research.comparison import meta_validate

    trained = []

    def stand_in(genotype, dataset, protocol, seed):  # the judge's training (tests/test_judge.py)
        trained.append((genotype, dataset.name, dataset.image_shape[0], seed))
        return {"val_accuracy": 0.8 + (genotype == meta_validate.ALL_3X3) * 0.05, "test_accuracy": -1.0}

    monkeypatch.setattr(judge, "train", stand_in)
    monkeypatch.setattr(meta_validate.meta_runs, "meta_train", lambda *a: 12.5)  # the smoke run stands for it
    monkeypatch.setattr(meta_validate, "TRAININGS", tmp_path / "runs.csv")
    monkeypatch.setattr(meta_validate, "TOP_JUDGE_RUNS", tmp_path / "none.csv")
    args = argparse.Namespace(variant="v", config="c.py", fold="kmnist", seed=0, workdir=str(smoke_workdir),
                              data_dir=None)
    row = meta_validate.validate(args, ["--config.meta.steps=3"])
    assert row["meta_training_datasets"] == ["digits"]  # the run's own, as it was meta-trained
    assert row["run_config"]["meta_steps"] == row["run_config"]["step"]
    proposed = [t for t in trained if t[0] == row["genotype"]]
    assert {t[3] for t in proposed} == {1000, 1001, 1002} and {t[1:3] for t in trained} == {("kmnist", 32)}
    assert row["margin_over_all_3x3"] == pytest.approx(-0.05 if row["genotype"] != meta_validate.ALL_3X3 else 0.0)
    assert "test" not in json.dumps({k: v for k, v in row.items() if k != "overrides"})  # validation only
    with pytest.raises(ValueError, match="--fold must be one of"):
        meta_validate.meta_training_datasets("cifar10")
    with pytest.raises(ValueError, match="not of seed 1"):  # another run's workdir is refused
        meta_validate.validate(argparse.Namespace(**{**vars(args), "seed": 1}), [])
    rows = [dict(row, seed=s, margin_over_all_3x3=m) for s, m in ((0, 0.01), (1, 0.03))]
    assert meta_validate.summary(rows) == [{"variant": "v", "results": 2, "folds": ["kmnist"], "seeds": [0, 1],
                                            "margin_mean": pytest.approx(0.02), "margin_std": pytest.approx(0.01414, abs=1e-4),
                                            "meta_training_s_mean": 12.5}]


def test_meta_validation_of_verification_chooses_on_a_carve_of_train_and_judges_the_chosen_cell(
        smoke_workdir, monkeypatch, tmp_path):
    import argparse

    from dimo.evaluation import judge
    from dimo.search import verify
    from research.comparison import meta_validate

    seen = {}

    def halving(arch_weights, dataset, n, setup, min_steps=None, eta=3, protocol=None):  # its trainings
        seen.update(dataset=dataset, n=n, seed=setup.seed, protocol=protocol)
        return {"genotype": C, "rank_in_distribution": 4, "steps": 1800, "verify_s": 3.0, "candidates": [C],
                "rungs": [], "protocol": protocol}

    trained = []
    monkeypatch.setattr(verify, "verify", halving)
    monkeypatch.setattr(judge, "train", lambda g, d, p, s: trained.append((g, s)) or {
        "val_accuracy": 0.9 if g == C else 0.8, "test_accuracy": -1.0})
    monkeypatch.setattr(meta_validate.meta_runs, "meta_train", lambda *a: 12.5)
    monkeypatch.setattr(meta_validate, "TRAININGS", tmp_path / "runs.csv")
    monkeypatch.setattr(meta_validate, "TOP_JUDGE_RUNS", tmp_path / "none.csv")
    args = argparse.Namespace(variant="v+verify", config="c.py", fold="kmnist", seed=0, workdir=str(smoke_workdir),
                              data_dir=None, verify=9)
    row = meta_validate.validate(args, [])
    assert row["genotype"] == C and row["verify"]["n"] == 9 and seen["n"] == 9 and seen["seed"] == 0
    assert seen["protocol"] is None and seen["dataset"].image_shape[0] == 8  # the short halving, at the run's 8x8
    assert [t for t in trained if t[0] == C] == [(C, 1000), (C, 1001), (C, 1002)]  # the chosen cell is judged
    assert row["margin_over_all_3x3"] == pytest.approx(0.1)

    from datasets_meta import load

    fold = load("kmnist", image_size=seen["dataset"].image_shape[0])
    chosen_on = seen["dataset"]
    assert len(chosen_on.val_labels) + len(chosen_on.train_labels) == len(fold.train_labels)
    assert len(chosen_on.val_labels) == round(0.1 * len(fold.train_labels))
    train_rows = {a.tobytes() for a in fold.train_images}
    assert all(a.tobytes() in train_rows for a in chosen_on.val_images[:50])  # carved from train ...
    assert np.array_equal(chosen_on.test_images, fold.test_images)  # ... test untouched, never read by it

    # --verify_protocol C: the halving trains at the judge's 32x32 and says so in the record.
    row = meta_validate.validate(argparse.Namespace(**{**vars(args), "verify_protocol": "C"}), [])
    assert seen["protocol"] == "C" and seen["dataset"].image_shape[0] == 32 and row["verify"]["protocol"] == "C"
    with pytest.raises(SystemExit):  # it chooses how --verify trains: refused without it
        meta_validate.main(["--variant", "v", "--verify_protocol", "C"])


def test_the_inner_split_carves_validation_from_train_and_leaves_the_figures_images_out():
    import dataclasses

    from research.comparison import meta_validate

    @dataclasses.dataclass(frozen=True)
    class Splits:  # the fields of datasets_meta.Dataset that inner_split reads
        train_images: np.ndarray
        train_labels: np.ndarray
        val_images: np.ndarray
        val_labels: np.ndarray
        test_images: np.ndarray

    def images(start, n):  # each image holds its own index
        return np.arange(start, start + n, dtype=np.int32).reshape(n, 1, 1, 1)

    fold = Splits(images(0, 200), np.arange(200) % 10, images(1000, 20), np.arange(20) % 10, images(2000, 50))
    view = meta_validate.inner_split(fold)
    train, val = set(view.train_images.ravel()), set(view.val_images.ravel())
    assert len(val) == 20 and not train & val and train | val == set(range(200))  # a partition of train
    assert not (train | val) & set(range(1000, 1020))  # no image the figure is read on
    assert np.array_equal(view.test_images, fold.test_images)
    assert np.array_equal(view.val_labels, fold.train_labels[view.val_images.ravel()])


def test_the_predictor_never_learns_from_a_held_out_table():
    from research.comparison import meta_validate

    with pytest.raises(ValueError, match="held out"):
        meta_validate.ranked_cell({"genotype": A, "arch_weights": np.zeros((6, 5))}, ["cifar10"], 9)


def test_meta_validation_of_the_predictor_fits_without_the_folds_table(smoke_workdir, monkeypatch, tmp_path):
    import argparse

    from dimo.evaluation import judge
    from dimo.search import predictor
    from research.comparison import meta_validate

    taught = []
    real = predictor.cell_table_scores
    monkeypatch.setattr(predictor, "cell_table_scores", lambda d, path=None: taught.append(real(d, path)) or taught[-1])
    monkeypatch.setattr(judge, "train", lambda g, d, p, s: {"val_accuracy": 0.9, "test_accuracy": -1.0})
    monkeypatch.setattr(meta_validate.meta_runs, "meta_train", lambda *a: 12.5)
    monkeypatch.setattr(meta_validate, "TRAININGS", tmp_path / "runs.csv")
    monkeypatch.setattr(meta_validate, "TOP_JUDGE_RUNS", tmp_path / "none.csv")
    args = argparse.Namespace(variant="v+rank9", config="c.py", fold="kmnist", seed=0, workdir=str(smoke_workdir),
                              data_dir=None, verify=0, rank=9)
    with pytest.raises(ValueError, match="two variants"):
        meta_validate.validate(argparse.Namespace(**{**vars(args), "verify": 9}), [])
    row = meta_validate.validate(args, [])
    assert [list(t) for t in taught] == [["fashion_mnist"]]  # the committed table's meta-training datasets, less the fold
    assert row["rank"]["genotype"] == row["genotype"] in row["rank"]["candidates"]
    assert len(row["rank"]["candidates"]) == len(row["rank"]["predicted"]) <= 9


def test_the_gradient_baseline_is_the_best_validation_mean_ties_to_the_earlier():
    from research.comparison import gradient_choice

    entries = {"gdas": {"val_accuracy_mean": 0.9}, "darts2": {"val_accuracy_mean": 0.9},
               "sdarts": {"val_accuracy_mean": 0.8}}
    assert gradient_choice.choose(entries) == "darts2"


def test_the_gradient_choice_searches_everything_before_it_trains_and_resumes_each_phase(tmp_path, monkeypatch):
    import json
    from types import SimpleNamespace

    import datasets_meta
    from dimo.evaluation import judge
    from dimo.search import registry
    from research.comparison import gradient_choice as gc

    events = []
    monkeypatch.setattr(gc, "OUT", tmp_path / "gradient_choice.json")
    monkeypatch.setattr(gc, "TRAININGS", tmp_path / "runs.csv")
    monkeypatch.setattr(datasets_meta, "load", lambda *a, **k: None)
    monkeypatch.setattr(gc, "write_manifest", lambda *a, **k: None)

    def search(method, dataset, setup):
        events.append(("search", method))
        return SimpleNamespace(genotype=A if method == "gdas" else B, search_s=setup.budget_s)

    class Log:
        def __init__(self, *a, **k):
            pass

        def judge(self, genotype, dataset, protocol, seeds):
            events.append(("judge", genotype))
            if len(events) == len(gc.METHODS) + 3:
                raise KeyboardInterrupt  # killed during the third training
            return {"val_accuracy_per_seed": [0.9 if genotype == A else 0.8] * 3}

    monkeypatch.setattr(registry, "run", search)
    monkeypatch.setattr(judge, "TrainingLog", Log)
    with pytest.raises(KeyboardInterrupt):
        gc.main([])
    assert [e[0] for e in events] == ["search"] * len(gc.METHODS) + ["judge"] * 3  # every search first
    assert len(json.loads(gc.OUT.read_text())["searched"]) == len(gc.METHODS)
    events.clear()
    assert gc.main([]) == 0
    assert [e[0] for e in events] == ["judge"] * (len(gc.METHODS) - 2)  # resumed: no search, no judged cell again
    assert json.loads(gc.OUT.read_text())["chosen"] == "gdas"


def test_the_comparison_command_is_the_protocols_and_waits_for_what_comes_first(tmp_path):
    import json

    from research.comparison import run

    runs = run.workdirs(tmp_path / "runs")
    out = tmp_path / "out"
    with pytest.raises(ValueError, match="held-out datasets"):
        run.compare_command("kmnist", runs, out, tmp_path)
    with pytest.raises(ValueError, match="no stage-2 table for cifar10"):
        run.compare_command("cifar10", runs, out, tmp_path)
    (tmp_path / "cell_table").mkdir()
    _table(tmp_path / "cell_table", "cifar10", {A: 0.5}, status="being built: 1 of 45 judged cells done")
    with pytest.raises(ValueError, match="being built"):
        run.compare_command("cifar10", runs, out, tmp_path)
    _table(tmp_path / "cell_table", "cifar10", {A: 0.5, B: 0.4})
    with pytest.raises(ValueError, match="no stage-2 table for tiny_imagenet20"):  # both tables first
        run.compare_command("cifar10", runs, out, tmp_path)
    _table(tmp_path / "cell_table", "tiny_imagenet20", {A: 0.3, B: 0.2})
    with pytest.raises(ValueError, match="gradient baseline is not chosen"):
        run.compare_command("cifar10", runs, out, tmp_path)
    (tmp_path / "comparison").mkdir()
    (tmp_path / "comparison" / "gradient_choice.json").write_text(json.dumps({"methods": {}, "chosen": "gdas"}))
    with pytest.raises(ValueError, match="no transferred cell"):
        run.compare_command("cifar10", runs, out, tmp_path)
    (tmp_path / "comparison" / "transferred_cell.json").write_text(json.dumps({"genotype": C, "tables": ["kmnist"]}))
    with pytest.raises(ValueError, match="protocol's are fashion_mnist, kmnist"):
        run.compare_command("cifar10", runs, out, tmp_path)
    (tmp_path / "comparison" / "transferred_cell.json").write_text(json.dumps(
        {"genotype": C, "tables": ["kmnist", "fashion_mnist"]}))
    command = run.compare_command("cifar10", runs, out, tmp_path)
    assert command[2:4] == ["dimo.cli", "compare"]
    flags = dict(zip(command[4::2], command[5::2]))
    assert flags == {"--workdir": ",".join(str(tmp_path / "runs" / f"recommended_seed{r}") for r in range(3)),
                     "--dataset": "cifar10", "--budget": "600", "--seeds": "3", "--judge": "C",
                     "--methods": "random,evolution,tpe,hyperband,gdas", "--rank": "9", "--verify": "9",
                     "--verify_steps": "100",
                     "--candidate_steps": "300", "--fixed_cells": f"uniform,transferred={C}",
                     "--judge_runs": str(tmp_path / "cell_table" / "top_judge_runs.csv"),
                     "--judge_table": str(tmp_path / "cell_table" / "top_judge_cifar10_C_stage2.csv"),
                     "--out": str(out)}
    with pytest.raises(ValueError, match="not committed"):
        run.committed([run.RESULTS / "comparison" / "no_such_choice.json"])
    assert run.searches_left(out, tmp_path) == 3 + 3 + 5 * 3 + 5  # propose, propose-verify, 5 methods x 3 seeds, 5 cells
    out.mkdir()
    (out / "settings.json").write_text("{}")
    assert run.compare_command("cifar10", runs, out, tmp_path)[-1] == "--resume"
    (out / "searched.jsonl").write_text("".join(json.dumps({"method": "random", "seed": s}) + "\n" for s in range(3)))
    (out / "rows.jsonl").write_text(json.dumps({"method": "cell:transferred", "seed": None}) + "\n")
    assert run.searches_left(out, tmp_path) == 26 - 4
