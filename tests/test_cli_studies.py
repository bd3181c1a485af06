"""``dimo ablate`` and ``dimo compare`` end to end on the smoke run (a file of their own: with
test_cli.py they would make one worker's longest file)."""

import json

import numpy as np
import pytest

from cli_calls import run_error, run_json
from dimo.space import search_space

GENOTYPE = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"


def test_ablate_produces_the_table_and_plot(smoke_workdir, capsys, tmp_path):
    out = tmp_path / "curves.png"
    result = run_json(capsys, ["ablate", "--workdir", str(smoke_workdir), "--dataset", "digits",
                               "--seeds", "2", "--combos", "learned/teacher,sgd/ce", "--out", str(out),
                               "--genotype", GENOTYPE, "--seed", "5"])
    assert result["first_seed"] == 5  # --seed is the first training seed
    assert result["genotype"] == GENOTYPE and "proposed_genotype" in result
    # The smoke config has K=3 and no persistent states, so H=K: horizons K=H, 2H and 4K.
    assert result["horizons"] == {"3": "K=H", "6": "2H", "12": "4K"}
    # The learned row once; SGD tuned on the meta-training datasets and on digits itself.
    assert [(r["optimizer"], r["loss"], r["tuned_on"]) for r in result["table"]] == [
        ("learned", "teacher", None), ("sgd", "ce", "meta-training datasets"), ("sgd", "ce", "evaluated dataset")]
    for row in result["table"]:
        assert list(row["at"]) == ["K=H", "2H", "4K"]
        final = row["at"]["4K"]  # 12 steps on digits: above chance (0.1), seeds differ
        assert final["val_accuracy"] > 0.15 and final["test_accuracy"] > 0.15, row
        assert final["test_accuracy_std"] > 0.0, row
        assert 0 < final["val_loss"] < np.log(10) + 1 and final["test_loss"] > 0, row
        assert row["at"]["K=H"]["val_loss"] > final["val_loss"], row  # it trained on
    # Tuned with the loss it is reported with, on each source; the shift is reported.
    for source in ("meta-training datasets", "evaluated dataset"):
        assert list(result["tuned_learning_rates"][source]) == ["sgd/ce"]
        assert result["tuned_learning_rates"][source]["sgd/ce"]["lr"] in (0.03, 0.1, 0.3)
        assert len(result["tuned_learning_rates"][source]["sgd/ce"]["seeds"]) == 2  # the default
    assert result["tuned_learning_rates"]["evaluated dataset"]["sgd/ce"]["seeds"][0] >= 1000  # unreported
    assert result["distribution_shift"]["classes"] == {"meta_training_tasks": 3, "evaluated": 10}
    assert result["seen_in_meta_training"] is True
    labels = [e["code"] for e in result["embedding_ablation"]]
    assert labels[0].startswith("own") and labels[-1] == "mean meta-training code"
    assert out.stat().st_size > 1000
    assert "must be OPTIMIZER/LOSS" in run_error(capsys, ["ablate", "--workdir", str(smoke_workdir),
                                                          "--dataset", "digits", "--combos", "rmsprop/ce"])
    assert "include the tuning seeds" in run_error(capsys, ["ablate", "--schedules", "--workdir", str(smoke_workdir),
                                                            "--dataset", "digits"])
    assert "add --schedules" in run_error(capsys, ["ablate", "--workdir", str(smoke_workdir), "--dataset", "digits",
                                                   "--vmapped"])
    assert "--tuning_seeds must be at least 1" in run_error(capsys, ["ablate", "--workdir", str(smoke_workdir),
                                                                     "--dataset", "digits", "--tuning_seeds", "0"])


@pytest.mark.e2e  # every search method's compile in one test; each is tested on its own elsewhere
def test_compare_runs_every_entry_judges_each_cell_once_and_writes_its_files(smoke_workdir, capsys,
                                                                             monkeypatch, tmp_path,
                                                                             short_darts_chunks):
    # The orchestration, with the cell table's 2 x 1000-step training replaced by a stand-in
    # (the judge itself is what `dimo evaluate` and the table run).
    from dimo.evaluation import cell_table

    judged = []

    def stand_in(genotype, dataset, table=None):
        judged.append(genotype)
        return {"test_accuracy_per_seed": [0.5, 0.7], "test_accuracy_mean": 0.6 + 0.01 * len(judged),
                "table_percentile": None, "table_cells": 0}

    monkeypatch.setattr(cell_table, "train_and_judge", stand_in)
    out = tmp_path / "cmp"
    # A 1 s budget: each search runs its first unit only (it carries the compile).
    args = ["compare", "--workdir", str(smoke_workdir), "--dataset", "digits", "--budget", "1",
            "--methods", "random,darts", "--seeds", "2", "--verify", "2", "--verify_steps", "3",
            "--candidate_steps", "3", "--out", str(out)]
    searched = run_json(capsys, args + ["--searches_only"])  # the idle-machine part alone
    assert searched["searched"] == 7 and judged == [] and not (out / "compare.json").exists()
    result = run_json(capsys, args + ["--resume"])  # then the judging, nothing searched again
    assert len((out / "searched.jsonl").read_text().splitlines()) == 7
    assert [(r["method"], r["seed"]) for r in result["rows"]] == [
        ("propose", 0), ("propose-verify", 0), ("propose-verify", 1), ("random", 0), ("random", 1),
        ("darts", 0), ("darts", 1)]
    assert sorted(judged) == sorted({r["genotype"] for r in result["rows"]})  # each cell trained once
    assert all(search_space.Genotype.from_string(r["genotype"]).connected for r in result["rows"])
    assert all(r["search_s"] > 0 for r in result["rows"])
    summary = {s["method"]: s for s in result["summary"]}
    assert list(summary) == ["propose", "propose-verify", "random", "darts"]
    assert summary["random"]["runs"] == 2 and result["seen_in_meta_training"] is True
    assert summary["random"]["parameter_free_mass"] is None and 0 < summary["darts"]["parameter_free_mass"] < 1
    assert "| propose-verify | 2 |" in (out / "compare.md").read_text()
    assert json.loads((out / "compare.json").read_text())["rows"] == result["rows"]
    assert (out / "compare.png").stat().st_size > 1000
    assert "already holds a comparison" in run_error(capsys, args)  # nothing overwritten
    assert "unknown" in run_error(capsys, args[:-2] + ["--methods", "random,nas"])
    assert "--budget must be positive" in run_error(capsys, ["compare", "--workdir", str(smoke_workdir),
                                                             "--dataset", "digits", "--budget", "0"])


def test_compare_under_a_top_judge_refuses_unpaired_or_unresumable_arguments(smoke_workdir, capsys, tmp_path):
    base = ["compare", "--workdir", str(smoke_workdir), "--dataset", "digits", "--budget", "1"]
    assert "pass as many --seeds as runs" in run_error(capsys, base + ["--judge", "C", "--seeds", "2"])
    twice = ["compare", "--workdir", f"{smoke_workdir},{smoke_workdir}", "--dataset", "digits", "--budget", "1"]
    assert "seed twice" in run_error(capsys, twice + ["--judge", "C"])
    assert "belong to a top judge" in run_error(capsys, base + ["--judge_runs", "x.csv"])
    assert "holds no comparison to continue" in run_error(capsys, base + ["--judge", "C", "--resume",
                                                                          "--out", str(tmp_path / "new")])
    assert "no such file" in run_error(capsys, base + ["--judge", "C", "--judge_runs", str(tmp_path / "x.csv"),
                                                      "--out", str(tmp_path / "c")])
    assert "neither 'uniform' nor" in run_error(capsys, base + ["--judge", "C", "--fixed_cells", "best"])
    started = tmp_path / "started"
    started.mkdir()
    (started / "settings.json").write_text("{}")
    assert "the arguments differ" in run_error(capsys, base + ["--judge", "C", "--resume", "--out", str(started)])
    assert not (tmp_path / "c").exists() and (started / "settings.json").read_text() == "{}"  # nothing written


@pytest.mark.e2e  # compiles a program per optimizer and horizon: the mechanics are tests/test_schedules.py's
def test_ablate_with_schedules_trains_the_protocols_baselines_for_real(smoke_workdir, capsys, monkeypatch, tmp_path):
    from dimo.studies import schedules

    monkeypatch.setattr(schedules, "LEARNING_RATES", {"sgd": (0.03, 0.3), "adam": (1e-3, 1e-2)})
    monkeypatch.setattr(schedules, "WEIGHT_DECAYS", (5e-4,))
    monkeypatch.setattr(schedules, "lopt_horizons", lambda config, h=None: {6: "K", 30: "H"})
    cache = tmp_path / "cache.jsonl"
    args = ["ablate", "--schedules", "--workdir", str(smoke_workdir), "--dataset", "digits", "--seeds", "2",
            "--seed", "1000", "--genotype", GENOTYPE, "--cache", str(cache), "--out", str(tmp_path / "s.png")]
    result = run_json(capsys, args)
    rows = {(r["baseline"], r["horizon"]): r for r in result["rows"]}
    assert set(b for b, _ in rows) == {"learned_teacher", "adam_schedule_tuned_meta_train", "sgd_schedule_tuned_meta_train",
                                       "adam_schedule_tuned_held_out", "sgd_schedule_tuned_held_out"}
    for (_, horizon), row in rows.items():  # 30 steps on digits: above chance; two seeds that differ
        assert row["test_accuracy"][0] != row["test_accuracy"][1] and (horizon == "K" or min(row["test_accuracy"]) > 0.2), row
    assert result["manifest"]["git_revision"] and (tmp_path / "s.png").stat().st_size > 1000
    lines = len(cache.read_text().splitlines())
    assert run_json(capsys, args)["rows"] == result["rows"] and len(cache.read_text().splitlines()) == lines


def test_ablate_vmapped_fills_the_grids_and_the_chosen_trainings_before_the_rows(smoke_workdir, capsys, monkeypatch,
                                                                                tmp_path):
    from dimo.studies import prefill, schedules

    calls = []
    monkeypatch.setattr(prefill, "tuning_grids", lambda config, g, datasets, horizons, cache: calls.append(
        ("grids", [d.name for d in datasets], list(horizons), cache.path)))
    monkeypatch.setattr(prefill, "evaluations", lambda config, g, target, meta, horizons, seeds, cache, tune_on_target:
                        calls.append(("evaluations", target.name, seeds, tune_on_target)))
    monkeypatch.setattr(schedules, "at_horizons", lambda *a, **k: calls.append(("rows", a[6].path)) or {
        "dataset": "digits", "genotype": GENOTYPE, "seeds": [1000], "rows": []})
    monkeypatch.setattr(schedules, "plot", lambda result, out: None)
    cache = tmp_path / "c.jsonl"
    run_json(capsys, ["ablate", "--schedules", "--vmapped", "--workdir", str(smoke_workdir), "--dataset", "digits",
                      "--seeds", "2", "--seed", "1000", "--genotype", GENOTYPE, "--cache", str(cache),
                      "--horizon", "20", "--out", str(tmp_path / "s.png")])
    assert [c[0] for c in calls] == ["grids", "evaluations", "rows"]  # the rows read what the prefill wrote
    assert calls[0][1][-1] == "digits" and calls[0][3] == calls[2][1] == cache
    assert calls[1] == ("evaluations", "digits", [1000, 1001], True)
