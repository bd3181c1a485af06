"""research.comparison.tables_teach: what the meta-training tables say about the trivial cell."""

import csv

import pytest

from research.comparison import tables_teach

A = tables_teach.ALL_3X3
B = "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|avg_pool_3x3~0|nor_conv_3x3~1|avg_pool_3x3~2|"
C = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"


def _runs(tmp_path):
    path = tmp_path / "runs.csv"
    # B leads on validation, A on test; C trails on both; a held-out dataset and protocol A are ignored
    figures = {A: (0.90, 0.80), B: (0.92, 0.78), C: (0.70, 0.60)}
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["dataset", "protocol", "genotype", "seed", "val_accuracy", "test_accuracy"])
        for g, (val, test) in figures.items():
            for seed in range(3):
                w.writerow(["kmnist", "C", g, seed, val + 0.001 * seed, test + 0.001 * seed])
                w.writerow(["cifar10", "C", g, seed, 0.1, 0.1])
            w.writerow(["kmnist", "A", g, 0, 0.0, 0.0])
        w.writerow(["kmnist", "C", C.replace("skip_connect~2", "none~2"), 0, 0.99, 0.99])  # one seed: not judged
    return path


def test_validation_and_test_can_point_to_different_bests(tmp_path):
    rows = tables_teach.summarise(_runs(tmp_path), ["kmnist", "cifar10_absent"])
    assert [r["dataset"] for r in rows] == ["kmnist"] and rows[0]["networks"] == 3
    val, test = rows[0]["validation"], rows[0]["test"]
    assert val["best"] == B and val["all_3x3_rank"] == 2 and val["best_minus_all_3x3"] == pytest.approx(0.02)
    assert val["its_test_minus_all_3x3"] == pytest.approx(-0.02)
    assert test["best"] == A and test["all_3x3_rank"] == 1 and test["best_minus_all_3x3"] == 0
    assert val["se"] == pytest.approx(0.001 / 3 ** 0.5) and val["within_one_se_of_best"] == 1


def test_no_meta_training_table_is_an_error_line(tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_text("dataset,protocol,genotype,seed,val_accuracy,test_accuracy\n")
    assert tables_teach.main(["--runs", str(empty), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith("error:") and not (tmp_path / "out").exists()


def test_the_predictor_can_be_taught_by_the_top_judges_validation_means(tmp_path, monkeypatch):
    import numpy as np

    from dimo.space import search_space
    from research.comparison import meta_validate

    monkeypatch.setattr(meta_validate, "TOP_JUDGE_RUNS", _runs(tmp_path))
    tables = meta_validate.top_judge_tables(["kmnist", "fashion_mnist"])  # fashion_mnist: none judged here
    assert list(tables) == ["kmnist"] and tables["kmnist"][B] == pytest.approx(0.921)  # validation, seeds 0-2
    one_hot = {g: search_space.Genotype.from_string(g).one_hot() for g in (A, B)}
    weights = 0.5 * one_hot[A] + 0.5 * one_hot[B] + 1e-3
    ranked = meta_validate.ranked_cell({"genotype": A, "arch_weights": weights}, ["kmnist"], 32, "top_judge")
    assert ranked["taught_by"] == ["kmnist"] and ranked["tables"] == "top_judge"
    predicted = dict(zip(ranked["candidates"], ranked["predicted"]))
    assert {A, B} <= set(predicted) and predicted[B] > predicted[A]  # B leads on validation
    assert ranked["genotype"] == ranked["candidates"][int(np.argmax(ranked["predicted"]))]
    with pytest.raises(ValueError, match="no top_judge table"):
        meta_validate.ranked_cell({"genotype": A, "arch_weights": weights}, ["mnist"], 4, "top_judge")
