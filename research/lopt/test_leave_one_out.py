"""The leave-one-out study's bookkeeping (folds, where a judged run lives) and its statistics
(``summary``: paired differences over runs, Holm, the bar)."""

import json

import numpy as np

from research.lopt import leave_one_out as loo
from research.lopt import summary


def test_folds_hold_each_meta_training_dataset_out_and_test_the_held_out_ones_on_all():
    folds = dict(loo.folds())
    assert len(folds) == 6 and folds["kmnist"] == ["digits", "mnist", "fashion_mnist"]
    assert folds["cifar10"] == folds["tiny_imagenet20"] == ["digits", "mnist", "fashion_mnist", "kmnist"]


def _result(dataset, run, gain):
    rng = np.random.default_rng(run)
    rows = []
    for steps, horizon in ((10, "K"), (200, "H"), (400, "2H")):
        base = 0.8 + 0.01 * rng.standard_normal(3)
        rows.append({"baseline": "learned_ce", "horizon": horizon, "steps": steps,
                     "test_accuracy": list(base + gain), "val_loss": list(1 - base - gain),
                     "val_accuracy": list(base), "test_loss": list(1 - base)})
        for name in ("adam_schedule_tuned_meta_train", "sgd_schedule_tuned_meta_train"):
            rows.append({"baseline": name, "horizon": horizon, "steps": steps, "test_accuracy": list(base),
                         "val_loss": list(1 - base), "val_accuracy": list(base), "test_loss": list(1 - base)})
    return {"dataset": dataset, "run": run, "rows": rows}


def test_the_summary_pairs_runs_corrects_over_datasets_and_horizons_and_reads_the_bar(tmp_path, monkeypatch):
    gains = {"digits": 0.05, "mnist": 0.04, "fashion_mnist": 0.03, "kmnist": 0.0, "cifar10": 0.0,
             "tiny_imagenet20": -0.0}
    results = [_result(d, r, g + 0.001 * r) for d, g in gains.items() for r in range(4)]
    rows = summary.summary_rows(results, resamples=200)
    assert len(rows) == 6 * 3 * 2 and {r["n_runs"] for r in rows} == {4}
    row = next(r for r in rows if (r["held_out"], r["horizon"], r["baseline"]) == ("digits", "H", summary.PRIMARY))
    assert abs(row["diff_test_accuracy"] - 0.0515) < 1e-9 and row["p_holm"] < 0.05
    assert row["diff_test_accuracy_ci95"][0] < row["diff_test_accuracy"] < row["diff_test_accuracy_ci95"][1]
    assert all(r["p_holm"] >= r["p_test_accuracy"] for r in rows)  # corrected, never smaller
    bar = summary.acceptance(rows)
    assert bar["datasets_won_at_H_and_2H"] == ["digits", "fashion_mnist", "mnist"] and bar["met"]
    # A merged label ("K=H" without persistent states) still counts as H; two runs are not the study.
    merged = [dict(r, horizon="K=H" if r["horizon"] == "H" else r["horizon"]) for r in rows]
    assert summary.acceptance(merged)["datasets_won_at_H_and_2H"] == bar["datasets_won_at_H_and_2H"]
    partial = summary.acceptance([dict(r, n_runs=2) for r in rows])
    assert not partial["met"] and not partial["whole_study"]
    worse = [dict(r, diff_test_accuracy=-0.01) if r["held_out"] == "kmnist" and r["baseline"] == summary.PRIMARY
             else r for r in rows]
    worse = [dict(r, p_holm=0.0) if r["held_out"] == "kmnist" else r for r in worse]  # p = 0 is significant
    assert summary.acceptance(worse)["datasets_significantly_worse"] == ["kmnist"] and not summary.acceptance(worse)["met"]
    monkeypatch.setattr(loo, "OUT", tmp_path)
    monkeypatch.setattr(loo, "CACHE", tmp_path / "trainings")
    (tmp_path / "runs").mkdir()
    for r in results:
        (tmp_path / "runs" / f"{r['dataset']}_run{r['run']}.json").write_text(json.dumps(r))
    monkeypatch.setattr(summary, "summary_rows", lambda results, resamples=200, f=summary.summary_rows: f(results, resamples))
    out = loo.summarize()
    assert json.loads((tmp_path / "summary.json").read_text())["rows"] == out["rows"]
    assert (tmp_path / "curves_kmnist.png").stat().st_size > 1000 and "| digits | H |" in (tmp_path / "summary.md").read_text()


def test_a_teacher_configs_unit_reports_the_optimizer_on_cross_entropy_beside(tmp_path, monkeypatch):
    # PROTOCOL.md, System: with the learned teacher judged, the optimizer on cross-entropy is
    # reported beside it; in the summary it is a row of its own (teacher minus cross-entropy).
    import types

    from dimo.infra import manifest
    from dimo.meta import trained as trained_lib
    from dimo.studies import ablate, schedules
    from research import meta_runs

    config = types.SimpleNamespace(inner=types.SimpleNamespace(loss="teacher", steps=10, lifetime=200))
    system = types.SimpleNamespace(config=config, params={})
    row = lambda name, steps, label: {"baseline": name, "horizon": label, "steps": steps,  # noqa: E731
                                      "test_accuracy": [0.5, 0.6, 0.7], "val_loss": [1.0, 1.0, 1.0]}
    losses = []

    def learned_rows(trained, genotype, target, recipe, horizons, seeds, loss, cache=None):
        losses.append((loss, list(seeds)))
        return [row(f"learned_{loss}", s, label) for s, label in horizons.items()]

    monkeypatch.setattr(loo, "OUT", tmp_path)
    monkeypatch.setattr(loo, "CACHE", tmp_path / "trainings")
    monkeypatch.setattr(loo, "KEPT", tmp_path / "systems")  # none kept: each run loads from its workdir
    monkeypatch.setattr(meta_runs, "meta_train", lambda *a, **k: 1.0)
    monkeypatch.setattr(meta_runs, "finished", lambda workdir: True)
    loaded = []
    monkeypatch.setattr(trained_lib, "load", lambda workdir: loaded.append(workdir) or system)
    monkeypatch.setattr(schedules, "load", lambda trained, name, data_dir=None: types.SimpleNamespace(name=name))
    monkeypatch.setattr(ablate, "dataset_code", lambda *a: None)
    monkeypatch.setattr(ablate, "recipe_from_code", lambda *a: types.SimpleNamespace(lr_scale=1.0, weight_decay=0.0))
    monkeypatch.setattr(schedules, "learned_rows", learned_rows)
    monkeypatch.setattr(schedules, "at_horizons", lambda trained, g, target, meta, horizons, seeds, cache, recipe: {
        "dataset": target.name, "horizons": horizons, "rows": [row("learned_teacher", s, lab) for s, lab in horizons.items()]
        + [row(summary.PRIMARY, s, lab) for s, lab in horizons.items()]})
    unit = loo.run_one("cfg.py", "digits", ["mnist"], 1, None, [])
    result = json.loads(unit.read_text())
    assert manifest.covering_manifest(unit).is_file()  # tests/test_results_provenance.py's rule
    assert losses == [("ce", [2000, 2001, 2002])]  # run 1's seeds, 1000 (r + 1) + k
    assert loaded == [loo.meta_training_dir(["mnist"], 1)] and "params_digest" in result  # which system it judged
    names = [r["baseline"] for r in result["rows"]]
    assert names[0] == "learned_teacher" and "learned_ce" in names
    rows = summary.summary_rows([dict(result, run=r) for r in (0, 1)], resamples=50)
    assert {r["baseline"] for r in rows} == {summary.PRIMARY, "learned_ce"}


def test_baselines_only_refuses_config_overrides(capsys):
    import pytest

    with pytest.raises(SystemExit) as stop:  # the prefill reads the config file as it is
        loo.main(["--config", "research/lopt/configs/scheduled.py", "--baselines", "grids", "--", "--config.inner.steps=5"])
    assert stop.value.code == 2 and "takes no config overrides (--config.inner.steps=5)" in capsys.readouterr().err


def test_the_meta_trainings_alone_come_in_the_studys_order_each_once():
    got = loo.meta_trainings([], 2)
    assert got[:2] == [(["mnist", "fashion_mnist", "kmnist"], 0), (["mnist", "fashion_mnist", "kmnist"], 1)]
    assert len(got) == 4 * 2 + 2  # cifar10 and tiny_imagenet20 share the all-four runs
    assert loo.meta_trainings(["kmnist"], 3) == [(["digits", "mnist", "fashion_mnist"], r) for r in range(3)]
    assert loo.meta_training_dir(["digits", "mnist"], 3).name == "digits-mnist_seed3"


def test_the_second_judged_run_has_its_own_directory_and_criterion_1_at_half_the_level(tmp_path, monkeypatch):
    import pytest

    assert loo.study_dir("ten") == loo.OUT / "ten" and loo.kept_dir("ten") == loo.OUT / "ten" / "systems"
    assert loo.study_dir("") == loo.OUT and loo.kept_dir("") == loo.KEPT
    assert loo.meta_training_dir(["digits"], 2, "ten").parent.name == "ten"
    assert loo.meta_training_dir(["digits"], 2) != loo.meta_training_dir(["digits"], 2, "ten")
    with pytest.raises(ValueError, match="judges"):  # no third config (PROTOCOL.md, Changes)
        loo.study_dir("another")
    results = [_result(d, r, g + 0.001 * r) for d, g in {"digits": 0.05, "mnist": 0.04, "fashion_mnist": 0.03,
                                                           "kmnist": 0.0, "cifar10": 0.0, "tiny_imagenet20": 0.0}.items()
               for r in range(4)]
    rows = summary.summary_rows(results, resamples=200)
    between = [dict(r, p_holm=0.03) if r["held_out"] in ("digits", "mnist", "fashion_mnist") else r for r in rows]
    assert summary.acceptance(between)["met"] and not summary.acceptance(between, 0.025)["met"]
    harm = [dict(r, diff_test_accuracy=-0.01, p_holm=0.04) if r["held_out"] == "kmnist" else r for r in rows]
    assert summary.acceptance(harm, 0.025)["datasets_significantly_worse"] == ["kmnist"]  # criterion 2 stays at 0.05
    monkeypatch.setattr(loo, "OUT", tmp_path)
    (tmp_path / "ten" / "runs").mkdir(parents=True)
    for r in results:
        (tmp_path / "ten" / "runs" / f"{r['dataset']}_run{r['run']}.json").write_text(json.dumps(r))
    monkeypatch.setattr(summary, "summary_rows", lambda results, resamples=200, f=summary.summary_rows: f(results, resamples))
    out = loo.summarize("ten")
    assert out["acceptance"]["criterion_1_alpha"] == 0.025 and out["study"] == "ten"
    assert (tmp_path / "ten" / "summary.json").is_file() and not (tmp_path / "summary.json").exists()
    (tmp_path / "summary.json").write_text(json.dumps({"rows": [dict(r, diff_test_accuracy=0.5) for r in rows]}))
    loo.summarize("ten")  # beside the first run's claim rows once that run's summary is there
    table = (tmp_path / "ten" / "summary.md").read_text()
    assert "| digits | H | +0.5000 (p " in table and "| tiny_imagenet20 | 2H |" in table


def test_run_picks_one_run_of_each_tested_dataset_so_processes_can_share_a_dataset(tmp_path, monkeypatch, capsys):
    import pytest

    ran = []
    monkeypatch.setattr(loo, "OUT", tmp_path)
    monkeypatch.setattr(loo, "run_one", lambda config, tested, datasets, run, *rest: ran.append((tested, run)) or "x")
    monkeypatch.setattr(loo, "summarize", lambda study="": {"acceptance": {}})
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "kmnist_run0.json").write_text("{}")  # a finished unit, so the summary step runs
    assert loo.main(["--config", "c.py", "--tested", "kmnist,mnist", "--run", "2"]) == 0
    assert ran == [("mnist", 2), ("kmnist", 2)]
    with pytest.raises(SystemExit):  # a run the study does not have is one error line, nothing trained
        loo.main(["--config", "c.py", "--tested", "kmnist", "--run", "4"])
    assert "--run 4 is not one of the study's runs 0-3" in capsys.readouterr().err and len(ran) == 2
    with pytest.raises(SystemExit):  # the modes that read every run do not take it
        loo.main(["--config", "c.py", "--run", "1", "--summarize"])
    assert "read every run" in capsys.readouterr().err
