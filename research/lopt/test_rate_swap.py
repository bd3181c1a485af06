"""The rate-swap diagnostic's arithmetic (research/lopt/rate_swap.py)."""

import pytest

from research.lopt import rate_swap


def _row(baseline, horizon, accuracy, loss):
    return {"baseline": baseline, "horizon": horizon, "val_accuracy": [accuracy, accuracy + 0.02],
            "val_loss": [loss, loss + 0.02], "learning_rate": 1e-3, "weight_decay": 5e-4}


def test_beside_subtracts_the_units_learned_optimizer_and_adam_per_horizon():
    unit = {"rows": [_row("learned_teacher", "H", 0.80, 0.50), _row("learned_teacher", "10H", 0.90, 0.30),
                     _row("adam_schedule_tuned_meta_train", "H", 0.82, 0.45),
                     _row("adam_schedule_tuned_meta_train", "10H", 0.91, 0.28),
                     _row("learned_ce", "10H", 0.0, 9.0)],  # the rows beside the judged loss's are not read
            "learned_loss": "teacher"}
    out = rate_swap.beside([_row("learned_teacher", "H", 0.81, 0.48), _row("learned_teacher", "10H", 0.92, 0.25)], unit)
    merged = rate_swap.beside([_row("learned_teacher", "4K=H", 0.81, 0.48)],
                              {**unit, "rows": unit["rows"] + [_row("learned_teacher", "4K=H", 0.80, 0.50),
                                                               _row("adam_schedule_tuned_meta_train", "4K=H", 0.82, 0.45)]})
    assert set(merged) == {"H"} and merged["H"] == out["H"]  # a merged label counts as each horizon it names
    assert out["H"]["lead_val_accuracy"] == pytest.approx(0.01) and out["H"]["vs_adam_val_loss"] == pytest.approx(0.03)
    assert out["10H"]["lead_val_loss"] == pytest.approx(-0.05) and out["10H"]["vs_adam_val_accuracy"] == pytest.approx(0.01)
    assert out["10H"]["swapped_val_accuracy"] == pytest.approx(0.93)

    lines = [{"by_horizon": out}, {"by_horizon": {"10H": dict(out["10H"], lead_val_loss=0.01)}}]
    result = rate_swap.summary(lines)
    assert result["H"]["n"] == 1 and result["10H"]["n"] == 2 and "2H" not in result
    assert result["10H"]["loss_lead_negative"] == 1 and result["10H"]["lead_val_loss_mean"] == pytest.approx(-0.02)


def test_a_fold_without_its_meta_training_here_is_one_error_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(rate_swap, "OUT", tmp_path / "rate_swap.jsonl")
    monkeypatch.setattr(rate_swap, "variant_workdir", lambda fold, seed: tmp_path / "absent")
    assert rate_swap.main(["--fold", "kmnist", "--seed", "3"]) == 2
    assert capsys.readouterr().err.startswith("error:") and not (tmp_path / "rate_swap.jsonl").exists()
