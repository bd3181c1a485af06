"""Meta-validation of the learned optimizer's config (research/lopt/PROTOCOL.md, System)."""

import argparse
import json

import ml_collections
import pytest

from research.lopt import meta_validate as mv


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
    for name, gain in (("learned_ce", learned_gain), (mv.BASELINE, 0.0)):
        for steps, label in horizons.items():
            rows.append({"baseline": name, "horizon": label, "steps": steps, "learning_rate": 1e-3,
                         "weight_decay": 5e-4, "val_accuracy": [0.8 + gain, 0.82 + gain],
                         "val_loss": [0.5 - gain, 0.6 - gain], "test_accuracy": [0.0, 0.0], "test_loss": [9.0, 9.0]})
    return {"horizons": horizons, "rows": rows, "learned_loss": "ce", "recipe": {"lr_scale": 1.0, "weight_decay": 0.0}}


def test_the_record_keeps_validation_differences_at_h_and_2h_and_the_summary_averages_them(
        smoke_workdir, monkeypatch, tmp_path):
    from dimo.studies import ablate, schedules

    asked = {}

    def at_horizons(trained, genotype, target, meta, horizons, seeds, cache, recipe, **options):
        asked.update(target=target, meta=meta, horizons=horizons, seeds=list(seeds), options=options)
        return _result(horizons, 0.01)

    monkeypatch.setattr(mv.meta_runs, "meta_train", lambda *a: 12.5)
    monkeypatch.setattr(schedules, "load", lambda system, name, data_dir=None: name)
    monkeypatch.setattr(ablate, "dataset_code", lambda system, target: None)
    monkeypatch.setattr(ablate, "recipe_from_code", lambda system, code: None)
    monkeypatch.setattr(schedules, "at_horizons", at_horizons)
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
    result = mv.paired(rows, "new", "sys")
    assert [(p["fold"], p["horizon"]) for p in result["pairs"]] == [("mnist", "H"), ("mnist", "2H"), ("kmnist", "H")]
    assert result["n"] == 3 and result["accuracy_ahead"] == 2 and result["accuracy_behind"] == 1
    assert result["loss_lower"] == 2 and result["loss_higher"] == 1
    assert result["val_accuracy_mean"] == pytest.approx((0.01 + 0.01 - 0.01) / 3)
    assert result["val_loss_mean"] == pytest.approx((-0.1 - 0.1 + 0.2) / 3)
    assert result["unpaired"] == [["digits", 1], ["mnist", 1]]
    with pytest.raises(ValueError, match="no fold and seed"):
        mv.paired(rows, "new", "absent")


def test_the_plot_draws_every_variant_and_carries_a_manifest(tmp_path):
    import json

    rows = [{"variant": v, "fold": f, "seed": 0,
             "by_horizon": {h: {"diff_val_accuracy": 0.01 * i, "diff_val_loss": -0.01 * i} for h in ("H", "2H")}}
            for i, v in enumerate(("a", "b")) for f in ("mnist", "kmnist")]
    out = mv.plot(rows, tmp_path / "mv.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    from dimo.infra.manifest import write_manifest

    assert json.loads(write_manifest(out).read_text())["git_revision"]  # a binary result has one too
