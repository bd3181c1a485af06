"""The head-off diagnostic (research/lopt/head_off.py): what it zeroes and how it reads."""

import dataclasses
import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from research.lopt import head_off


def test_only_the_head_is_zeroed():
    params = {"optimizer": {"log_lr": jnp.float32(-5.4), "net": {"gru": {"w": jnp.ones((2, 2))},
                                                                "head": {"kernel": jnp.ones((3, 2)), "bias": jnp.ones(2)}}},
              "decoder": {"w": jnp.ones(4)}}
    system = types.SimpleNamespace(params=params)

    @dataclasses.dataclass(frozen=True)
    class Held:
        params: dict

    off = head_off.without_head(Held(params))
    assert all(float(jnp.abs(x).max()) == 0 for x in jax.tree.leaves(off.params["optimizer"]["net"]["head"]))
    for path in (("optimizer", "log_lr"), ("optimizer", "net", "gru", "w"), ("decoder", "w")):
        a, b = off.params, system.params
        for k in path:
            a, b = a[k], b[k]
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert float(params["optimizer"]["net"]["head"]["bias"][0]) == 1.0  # the system it came from is untouched


def _line(fold, seed, gain_h, gain_2h, loss_lead_10h, vs_adam_10h):
    figure = lambda acc, loss=0.0, vs=0.0: {"lead_val_accuracy": -acc, "lead_val_loss": loss,  # noqa: E731
                                             "vs_adam_val_loss": vs, "vs_adam_val_accuracy": 0.0,
                                             "head_off_val_accuracy": 0.9}
    return {"fold": fold, "seed": seed, "by_horizon": {"H": figure(gain_h), "2H": figure(gain_2h),
                                                       "10H": figure(0.0, loss_lead_10h, vs_adam_10h)}}


PAIRS = [(f, s) for f in head_off.FOLDS for s in head_off.SEEDS]


@pytest.mark.parametrize("gains, verdict", [((0.01,) * 6 + (-0.001,) * 2, "carry"),
                                            ((-0.01,) * 7 + (0.001,), "cost"),
                                            ((0.01,) * 5 + (-0.001,) * 3, "no clear effect")])
def test_the_first_reading_needs_both_horizons_and_six_of_eight(gains, verdict):
    lines = [_line(f, s, g, g, 0.0, 0.0) for (f, s), g in zip(PAIRS, gains)]
    assert head_off.readings(lines)["H_2H"] == verdict
    mixed = [_line(f, s, g, -g, 0.0, 0.0) for (f, s), g in zip(PAIRS, gains)]
    assert head_off.readings(mixed)["H_2H"] == "no clear effect"  # H and 2H disagree
    assert head_off.readings(lines[:7])["H_2H"] == "incomplete"


def test_the_second_reading_asks_for_half_the_judged_gap():
    # judged minus Adam = vs_adam - lead: here 0.04 - (-0.06) = 0.10 a pair; half is 0.05
    met = [_line(f, s, 0, 0, -0.06, 0.04) for f, s in PAIRS]
    assert head_off.readings(met)["10H"] == "corrections make the gap"
    short = [_line(f, s, 0, 0, -0.02, 0.06) for f, s in PAIRS]  # gap 0.08, half 0.04: -0.02 is not
    assert head_off.readings(short)["10H"] == "not"
    few = [_line(f, s, 0, 0, -0.2 if i < 5 else 0.01, 0.0) for i, (f, s) in enumerate(PAIRS)]
    assert head_off.readings(few)["10H"] == "not"  # 5 of 8 negative


def test_the_teacher_is_set_beside_cross_entropy_from_the_units(tmp_path, monkeypatch):
    def row(baseline, horizon, accuracy, loss):
        return {"baseline": baseline, "horizon": horizon, "val_accuracy": [accuracy] * 2, "val_loss": [loss] * 2,
                "learning_rate": 1e-3, "weight_decay": 5e-4}

    unit = {"horizons": {"200": "H", "400": "2H", "2000": "10H"}, "rows": [row(name, h, acc, loss) for h in head_off.HORIZONS for name, acc, loss in
                     (("adam_schedule_tuned_meta_train", 0.90, 0.30), ("learned_teacher", 0.91, 0.40),
                      ("learned_ce", 0.89, 0.25))]}
    (tmp_path / "u.json").write_text(json.dumps(unit))
    monkeypatch.setattr(head_off.leave_one_out, "unit_path", lambda fold, seed, study: tmp_path / "u.json")
    out = head_off.teacher_beside_ce([("kmnist", 0), ("mnist", 1)])
    assert out["10H"]["teacher_minus_adam_val_loss"]["mean"] == pytest.approx(0.10)
    assert out["H"]["ce_minus_adam_val_accuracy"]["per_pair"] == pytest.approx([-0.01, -0.01])


def test_head_off_trains_the_judged_system_with_its_head_zeroed_on_the_units_seeds(monkeypatch):
    """The whole of ``head_off`` on the digits fold (offline), with the trainings stubbed: it loads the
    kept system the unit names, checks it decodes the unit's rate, and trains all-3x3 with the head
    at zero, at the unit's H, 2H and 10H, on the unit's seeds and loss."""
    from dimo.studies import schedules

    unit = json.loads(head_off.leave_one_out.unit_path("digits", 0, head_off.STUDY).read_text())
    seen = {}

    def learned_rows(system, genotype, target, recipe, horizons, seeds, loss, cache):
        seen.update(system=system, genotype=str(genotype), horizons=horizons, seeds=seeds, loss=loss,
                    lr_scale=float(recipe.lr_scale))
        return ["rows"]

    monkeypatch.setattr(schedules, "learned_rows", learned_rows)
    monkeypatch.setattr(head_off.rate_swap, "beside", lambda rows, u, name: {"rows": rows, "unit": u["meta_training_run"],
                                                                               "name": name})
    line = head_off.head_off("digits", 0)
    assert line["by_horizon"] == {"rows": ["rows"], "unit": unit["meta_training_run"], "name": "head_off"}
    assert seen["genotype"] == head_off.ALL_3X3 and seen["seeds"] == unit["seeds"] and seen["loss"] == unit["learned_loss"]
    assert sorted(h for label in seen["horizons"].values() for h in label.split("=")) == sorted(head_off.HORIZONS)
    assert seen["lr_scale"] == pytest.approx(unit["recipe"]["lr_scale"], rel=1e-5)
    head = seen["system"].params["optimizer"]["net"]["head"]
    assert all(float(jnp.abs(x).max()) == 0 for x in jax.tree.leaves(head))
    from dimo.meta import trained

    judged = trained.load(head_off.leave_one_out.kept_dir(head_off.STUDY) / unit["meta_training_run"]).params
    for name, part in seen["system"].params["optimizer"]["net"].items():
        if name != "head":  # the GRU and everything else is the judged system's
            for a, b in zip(jax.tree.leaves(part), jax.tree.leaves(judged["optimizer"]["net"][name])):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_array_equal(np.asarray(seen["system"].params["optimizer"]["log_lr"]),
                                  np.asarray(judged["optimizer"]["log_lr"]))


def test_head_off_refuses_a_system_that_decodes_another_rate(monkeypatch, tmp_path):
    unit = json.loads(head_off.leave_one_out.unit_path("digits", 0, head_off.STUDY).read_text())
    unit["recipe"] = {**unit["recipe"], "lr_scale": unit["recipe"]["lr_scale"] * 1.01}
    (tmp_path / "u.json").write_text(json.dumps(unit))
    monkeypatch.setattr(head_off.leave_one_out, "unit_path", lambda fold, seed, study: tmp_path / "u.json")
    with pytest.raises(ValueError, match="not the judged system"):
        head_off.head_off("digits", 0)
