"""Meta-validation of the learned optimizer's config (research/lopt/PROTOCOL.md, System)."""

import argparse
import json

import ml_collections
import pytest

from research.lopt import meta_validate as mv
from research.lopt import pairing


def test_folds_are_meta_training_datasets_and_the_horizons_are_h_and_2h():
    assert mv.fold_datasets("mnist") == ["digits", "fashion_mnist", "kmnist"]
    with pytest.raises(ValueError, match="held-out dataset is never read"):
        mv.fold_datasets("cifar10")
    config = ml_collections.ConfigDict({"inner": {"steps": 10, "lifetime": 0}})
    assert mv.chosen_horizons(config) == {200: "H", 400: "2H"}  # H fixed in steps, whatever the lifetime
    config.inner.lifetime = 400
    assert mv.chosen_horizons(config) == {200: "H", 400: "2H"}


def _result(horizons, learned_gain):
    rows = []
    for name, gain in (("learned_ce", learned_gain), (pairing.BASELINE, 0.0)):
        for steps, label in horizons.items():
            rows.append({"baseline": name, "horizon": label, "steps": steps, "learning_rate": 1e-3,
                         "weight_decay": 5e-4, "val_accuracy": [0.8 + gain, 0.82 + gain],
                         "val_loss": [0.5 - gain, 0.6 - gain], "test_accuracy": [0.0, 0.0], "test_loss": [9.0, 9.0]})
    return {"horizons": horizons, "rows": rows, "learned_loss": "ce", "recipe": {"lr_scale": 1.0, "weight_decay": 0.0}}


def _stub_validation(monkeypatch, at_horizons):
    """``validate`` without meta-training or training: the trainings are ``at_horizons``."""
    from dimo.studies import ablate, schedules

    monkeypatch.setattr(mv.meta_runs, "meta_train", lambda *a: 12.5)
    monkeypatch.setattr(schedules, "load", lambda system, name, data_dir=None: name)
    monkeypatch.setattr(ablate, "dataset_code", lambda system, target: None)
    monkeypatch.setattr(ablate, "recipe_from_code", lambda system, code: None)
    monkeypatch.setattr(schedules, "at_horizons", at_horizons)


def test_the_record_keeps_validation_differences_at_h_and_2h_and_the_summary_averages_them(
        smoke_workdir, monkeypatch, tmp_path):
    asked = {}

    def at_horizons(trained, genotype, target, meta, horizons, seeds, cache, recipe, **options):
        asked.update(target=target, meta=meta, horizons=horizons, seeds=list(seeds), options=options)
        return _result(horizons, 0.01)

    _stub_validation(monkeypatch, at_horizons)
    args = argparse.Namespace(variant="v", config="c.py", fold="mnist", seed=0, workdir=str(smoke_workdir),
                              data_dir=None)
    row = mv.validate(args, ["--config.meta.steps=5"])
    assert asked["target"] == "mnist" and asked["meta"] == ["digits", "fashion_mnist", "kmnist"]
    assert asked["options"] == {"tune_on_target": False, "optimizers": ("adam",)} and asked["seeds"] == [1000, 1001, 1002]
    assert set(row["by_horizon"]) == set(asked["horizons"].values()) and "test" not in json.dumps(row["by_horizon"])
    assert all(h["diff_val_accuracy"] == pytest.approx(0.01) and h["diff_val_loss"] == pytest.approx(-0.01)
               for h in row["by_horizon"].values())
    with pytest.raises(ValueError, match="not of seed 1"):  # another run's workdir is refused
        mv.validate(argparse.Namespace(**{**vars(args), "seed": 1}), [])
    with pytest.raises(ValueError, match="not of seed 0 without digits"):  # a run that saw the fold
        mv.validate(argparse.Namespace(**{**vars(args), "fold": "digits"}), [])
    other = dict(row, seed=1, by_horizon={k: dict(v, diff_val_accuracy=0.03, diff_val_loss=-0.03)
                                          for k, v in row["by_horizon"].items()})
    (line,) = mv.summary([row, other])
    assert line["diff_val_accuracy_mean"] == pytest.approx(0.02) and line["diff_val_loss_mean"] == pytest.approx(-0.02)
    assert line["results"] == 2 and line["seeds"] == [0, 1] and line["diff_val_accuracy_std"] == pytest.approx(0.01414, abs=1e-4)


def test_paired_differences_take_the_folds_seeds_and_horizons_both_variants_have():
    def row(variant, fold, seed, accuracy, loss, horizons=("H", "2H")):
        return {"variant": variant, "fold": fold, "seed": seed,
                "by_horizon": {h: {"diff_val_accuracy": accuracy, "diff_val_loss": loss} for h in horizons}}

    rows = [row("new", "mnist", 0, 0.02, -0.1), row("new", "kmnist", 0, -0.01, 0.2, ("4K=H",)),  # a merged label
            row("new", "digits", 1, 0.5, 0.5),  # no partner: left out
            row("sys", "mnist", 0, 0.01, 0.0), row("sys", "kmnist", 0, 0.0, 0.0), row("sys", "mnist", 1, 0.0, 0.0)]
    result = pairing.paired(rows, "new", "sys")
    assert [(p["fold"], p["horizon"]) for p in result["pairs"]] == [("mnist", "H"), ("mnist", "2H"), ("kmnist", "H")]
    assert result["n"] == 3 and result["accuracy_ahead"] == 2 and result["accuracy_behind"] == 1
    assert result["loss_lower"] == 2 and result["loss_higher"] == 1
    assert result["val_accuracy_mean"] == pytest.approx((0.01 + 0.01 - 0.01) / 3)
    assert result["val_loss_mean"] == pytest.approx((-0.1 - 0.1 + 0.2) / 3)
    assert result["unpaired"] == [["digits", 1], ["mnist", 1]]
    with pytest.raises(ValueError, match="no fold and seed"):
        pairing.paired(rows, "new", "absent")


def test_the_plot_draws_every_variant_and_carries_a_manifest(tmp_path):
    import json

    rows = [{"variant": v, "fold": f, "seed": 0,
             "by_horizon": {h: {"diff_val_accuracy": 0.01 * i, "diff_val_loss": -0.01 * i} for h in ("H", "2H")}}
            for i, v in enumerate(("a", "b")) for f in ("mnist", "kmnist")]
    out = mv.plot(rows, tmp_path / "mv.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    from dimo.infra.manifest import write_manifest

    assert json.loads(write_manifest(out).read_text())["git_revision"]  # a binary result has one too


def test_diagnostic_horizons_are_trained_apart_from_the_rules_figure(smoke_workdir, monkeypatch):
    config = ml_collections.ConfigDict({"inner": {"steps": 10, "lifetime": 1000}})
    assert mv.diagnostic_horizons(config, "10H") == {2000: "10H"}
    assert mv.diagnostic_horizons(config, "K,H,10H") == {10: "K", 2000: "10H"}  # H is the rule's already
    assert mv.diagnostic_horizons(config, "") == {}
    with pytest.raises(ValueError, match="--diagnostic 20H"):
        mv.diagnostic_horizons(config, "10H,20H")

    asked = {}

    def at_horizons(trained, genotype, target, meta, horizons, seeds, cache, recipe, **options):
        asked.update(horizons=horizons)
        return _result(horizons, 0.01)

    _stub_validation(monkeypatch, at_horizons)
    args = argparse.Namespace(variant="v", config="c.py", fold="mnist", seed=0, workdir=str(smoke_workdir),
                              data_dir=None, diagnostic="10H")
    row = mv.validate(args, [])
    assert set(asked["horizons"].values()) == {"H", "2H", "10H"}
    assert set(row["by_horizon"]) == {"H", "2H"} and set(row["diagnostic"]) == {"10H"}
    (line,) = mv.summary([row])  # the rule's figure reads H and 2H only
    assert line["diff_val_accuracy_mean"] == pytest.approx(0.01)
    assert "diagnostic" not in mv.validate(argparse.Namespace(**{**vars(args), "diagnostic": ""}), [])


def test_against_study_pairs_a_variant_with_a_judged_runs_units_on_the_same_fold_and_seeds(tmp_path, monkeypatch):
    from research.lopt import leave_one_out

    monkeypatch.setattr(leave_one_out, "OUT", tmp_path)
    (tmp_path / "ten" / "runs").mkdir(parents=True)
    horizons = {"200": "H", "400": "2H", "2000": "10H"}
    unit = {**_result(horizons, 0.02), "seeds": [1000, 1001, 1002]}
    (tmp_path / "ten" / "runs" / "kmnist_run0.json").write_text(json.dumps(unit))
    figures = lambda gain: {"diff_val_accuracy": gain, "diff_val_loss": -gain}  # noqa: E731
    rows = [{"variant": "long", "fold": "kmnist", "seed": 0, "by_horizon": {"H": figures(0.01), "2H": figures(0.01)},
             "diagnostic": {"10H": figures(0.05)}},
            {"variant": "long", "fold": "digits", "seed": 0, "by_horizon": {"H": figures(0.0)}}]  # no unit: left out
    result = pairing.against_study(rows, "long", "ten")
    assert [(p["fold"], p["horizon"]) for p in result["pairs"]] == [("kmnist", "H"), ("kmnist", "2H"), ("kmnist", "10H")]
    assert result["unpaired"] == [["digits", 0]]
    assert result["by_horizon"]["10H"]["lead_val_accuracy_mean"] == pytest.approx(0.03)
    assert result["by_horizon"]["H"]["lead_val_loss_mean"] == pytest.approx(0.01)
    assert result["by_horizon"]["H"]["study_val_accuracy_mean"] == pytest.approx(0.02)
    with pytest.raises(ValueError, match="no result of absent"):
        pairing.against_study(rows, "absent", "ten")
    with pytest.raises(ValueError, match="judges"):
        pairing.against_study(rows, "long", "third")
    (tmp_path / "ten" / "runs" / "kmnist_run0.json").write_text(json.dumps({**unit, "seeds": [2000, 2001, 2002]}))
    with pytest.raises(ValueError, match="not run 0's"):  # another run's unit is refused
        pairing.against_study(rows, "long", "ten")
    (tmp_path / "ten" / "runs" / "kmnist_run0.json").write_text(json.dumps({**unit, "rows": unit["rows"][:2]}))
    with pytest.raises(ValueError, match="not a complete unit"):
        pairing.against_study(rows, "long", "ten")


def test_against_study_meets_a_variant_on_its_own_inner_loss(tmp_path, monkeypatch):
    from research.lopt import leave_one_out

    monkeypatch.setattr(leave_one_out, "OUT", tmp_path)
    (tmp_path / "ten" / "runs").mkdir(parents=True)
    horizons = {"200": "H"}
    unit = {**_result(horizons, 0.02), "seeds": [1000, 1001, 1002], "learned_loss": "teacher"}
    teacher = [{**r, "baseline": "learned_teacher", "val_accuracy": [0.7, 0.7]} for r in unit["rows"] if r["baseline"] == "learned_ce"]
    unit["rows"] = unit["rows"] + teacher  # the judged optimizer on its teacher (0.7) and on cross-entropy (0.83 mean)
    (tmp_path / "ten" / "runs" / "kmnist_run0.json").write_text(json.dumps(unit))
    figures = {"H": {"diff_val_accuracy": 0.0, "diff_val_loss": 0.0}}
    study_on = lambda loss: pairing.against_study([{"variant": "v", "fold": "kmnist", "seed": 0, "learned_loss": loss,  # noqa: E731
                                                     "by_horizon": figures}], "v", "ten")["by_horizon"]["H"]
    assert study_on("ce")["study_val_accuracy_mean"] == pytest.approx(0.02)  # cross-entropy rows, minus Adam's
    assert study_on("teacher")["study_val_accuracy_mean"] == pytest.approx(0.7 - 0.81)  # the teacher's


def test_a_bad_diagnostic_horizon_is_one_error_before_any_meta_training(monkeypatch, capsys):
    monkeypatch.setattr(mv.meta_runs, "meta_train", lambda *a: pytest.fail("meta-trained before the check"))
    with pytest.raises(SystemExit) as exit_:
        mv.main(["--variant", "v", "--fold", "mnist", "--diagnostic", "10H, 20H"])
    assert exit_.value.code == 2 and "error: --diagnostic 20H" in capsys.readouterr().err
