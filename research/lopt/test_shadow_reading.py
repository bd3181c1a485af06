"""The pre-registered readings of ten_life1000_shadow (research/lopt/shadow_reading.py)."""

import json

import pytest

from research.lopt import shadow_reading as reading

RUNS = [("kmnist", 0), ("kmnist", 1), ("fashion_mnist", 0), ("fashion_mnist", 1)]


def _row(variant, fold, seed, lr_scale, loss_10h=0.0):
    figures = {"diff_val_accuracy": 0.01, "diff_val_loss": 0.1}
    return {"variant": variant, "fold": fold, "seed": seed, "recipe": {"lr_scale": lr_scale},
            "by_horizon": {"H": dict(figures)}, "diagnostic": {"10H": dict(figures, diff_val_loss=loss_10h)}}


@pytest.mark.parametrize("ratios, verdict", [((2.0, 3.0, 2.5, 1.0), "supported"),
                                             ((1.2, 0.5, 1.0, 3.0), "contradicted"),
                                             ((2.0, 1.5, 1.1, 3.0), "unclear")])
def test_the_mechanism_reads_the_rate_ratios_as_registered(ratios, verdict):
    rows = [_row(reading.LONG_LIFE, f, s, 0.4) for f, s in RUNS]
    rows += [_row(reading.VARIANT, f, s, 0.4 * r) for (f, s), r in zip(RUNS, ratios)]
    out = reading.mechanism(rows)
    by_run = {(p["fold"], p["seed"]): p["ratio"] for p in out["pairs"]}
    assert out["verdict"] == verdict and [by_run[run] for run in RUNS] == pytest.approx(list(ratios))
    assert reading.mechanism(rows[:-1])["verdict"] == "incomplete"  # three shadow runs of four


def test_leads_pair_runs_and_take_diagnostic_horizons_too():
    rows = [_row(reading.LONG_LIFE, "kmnist", 0, 0.4, loss_10h=0.06), _row(reading.VARIANT, "kmnist", 0, 1.0, loss_10h=0.01),
            _row(reading.VARIANT, "kmnist", 1, 1.0)]  # no long-life run to pair with: left out
    out = reading.leads(rows, reading.VARIANT, reading.LONG_LIFE)
    assert out["10H"]["n"] == 1 and out["10H"]["val_loss_mean"] == pytest.approx(-0.05) and out["10H"]["loss_lower"] == 1
    assert out["H"]["val_accuracy_mean"] == pytest.approx(0.0)


def test_the_effect_applies_the_long_life_bar(monkeypatch):
    def study(leads):
        return lambda rows, variant, study: {"pairs": [{"horizon": "10H", "lead_val_loss": x} for x in leads],
                                             "by_horizon": {}}

    monkeypatch.setattr(reading.pairing, "against_study", study([-0.05, -0.06, -0.09, 0.01]))
    assert reading.effect([])["verdict"] == "met"
    monkeypatch.setattr(reading.pairing, "against_study", study([-0.05, -0.01, -0.02, 0.01]))
    assert reading.effect([])["verdict"] == "not met"  # 3 of 4 negative, but the mean is -0.0175
    monkeypatch.setattr(reading.pairing, "against_study", study([-0.05]))
    assert reading.effect([])["verdict"] == "incomplete"


def test_a_record_without_both_variants_gives_one_error_line(tmp_path, monkeypatch, capsys):
    rows = [_row(reading.VARIANT, "kmnist", 0, 1.0)]  # no ten_life1000 run beside it
    with pytest.raises(ValueError, match="no fold and seed has results of both"):
        reading.leads(rows, reading.VARIANT, reading.LONG_LIFE)
    record = tmp_path / "meta_validation.jsonl"
    record.write_text("".join(json.dumps(r) + "\n" for r in rows))
    monkeypatch.setattr(reading.meta_validate, "OUT", record)
    monkeypatch.setattr(reading.pairing, "against_study", lambda rows, variant, study: {"pairs": [], "by_horizon": {}})
    assert reading.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no fold and seed has results of both")
