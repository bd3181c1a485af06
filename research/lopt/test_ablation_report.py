"""research.lopt.ablation_report: issue #15's verdict from `dimo ablate --json` files."""

import json

from research.lopt import ablation_report


def _at(acc, acc_std, loss, loss_std, steps=10):
    return {"steps": steps, "test_accuracy": acc, "test_accuracy_std": acc_std,
            "val_loss": loss, "val_loss_std": loss_std}


def _row(optimizer, loss, tuned_on, at):
    return {"optimizer": optimizer, "loss": loss, "tuned_on": tuned_on, "at": {"K": at}}


def test_beats_needs_more_than_one_standard_error_of_the_difference():
    a, b = _at(0.50, 0.01, 1.0, 0.01), _at(0.49, 0.01, 1.1, 0.01)
    # difference 0.01 against sqrt(2 * 0.01^2 / 3) = 0.0082: beats; with 1 seed 0.014: does not.
    assert ablation_report.beats(a, b, "test_accuracy", 3, True)
    assert not ablation_report.beats(a, b, "test_accuracy", 1, True)
    assert ablation_report.beats(a, b, "val_loss", 3, False) and not ablation_report.beats(b, a, "val_loss", 3, False)


def test_rows_give_the_verdict_per_horizon(tmp_path, capsys):
    report = {"seeds": 3, "horizons": {"10": "K"}, "table": [
        _row("learned", "teacher", None, _at(0.30, 0.005, 1.8, 0.01)),
        _row("learned", "ce", None, _at(0.29, 0.005, 1.9, 0.01)),
        _row("adam", "ce", "meta-training datasets", _at(0.25, 0.005, 2.0, 0.01)),
    ]}
    path = tmp_path / "x_cifar10.json"
    path.write_text(json.dumps(report))
    (line,) = ablation_report.rows(path)
    assert line.startswith("| x_cifar10 | K (10) | 0.300 ± 0.005 / 1.800 ± 0.010 |")
    assert "| - |" in line and line.endswith("| +0.050 / -0.200 | +0.040 / -0.100 | yes | yes |")  # no row tuned on the dataset
    report["table"][0]["at"]["K"]["val_loss"] = 2.1  # more accurate but a worse loss: no
    path.write_text(json.dumps(report))
    assert ablation_report.rows(path)[0].endswith("| no | yes |")
    assert ablation_report.main([str(path)]) == 0 and "| x_cifar10 |" in capsys.readouterr().out
    assert ablation_report.main([str(tmp_path / "missing.json")]) == 2
    assert capsys.readouterr().err.startswith("error: no ablation file")


def test_over_runs_takes_the_meta_training_run_as_the_unit(tmp_path, capsys):
    # Three runs ahead of Adam by 0.01, 0.02, 0.03 in accuracy: mean +0.02, SE 0.01 / sqrt(3).
    # Loss differences -0.1, -0.1, +0.1: mean -0.0333, sample std sqrt(0.04 / 3); the third
    # run is behind in loss, so 2 runs are ahead in both (and past the bar: stds are tiny).
    paths = []
    for i, (gain, loss_drop) in enumerate(((0.01, 0.1), (0.02, 0.1), (0.03, -0.1))):
        report = {"seeds": 3, "horizons": {"10": "K"}, "table": [
            _row("learned", "teacher", None, _at(0.25 + gain, 0.001, 2.0 - loss_drop, 0.001)),
            _row("adam", "ce", "meta-training datasets", _at(0.25, 0.001, 2.0, 0.001))]}
        paths.append(tmp_path / f"run{i}.json")
        paths[-1].write_text(json.dumps(report))
    (line,) = ablation_report.over_runs(paths)
    assert line == f"| K | 3 | +0.0200 ± {0.01 / 3 ** 0.5:.4f} | -0.0333 ± {(0.04 / 3) ** 0.5 / 3 ** 0.5:.4f} | 2 | 2 |"
    assert ablation_report.main(["--over_runs", *map(str, paths)]) == 0
    assert "runs past the one-SE bar" in capsys.readouterr().out


def _val_at(acc, loss):
    return {"val_accuracy": acc, "val_loss": loss, "test_accuracy": 0.0, "test_loss": 9.0}


def _selection_report(learned_acc, learned_loss):
    at = {"H": _val_at(learned_acc, learned_loss), "2H": _val_at(learned_acc + 0.02, learned_loss - 0.1)}
    adam = {"H": _val_at(0.50, 1.0), "2H": _val_at(0.52, 0.9)}
    return {"table": [{"optimizer": "learned", "loss": "teacher", "tuned_on": None, "at": at},
                      {"optimizer": "adam", "loss": "ce", "tuned_on": "meta-training datasets", "at": adam}]}


def test_select_run_scores_validation_gains_over_adam_and_picks_the_highest(tmp_path, capsys):
    from research.lopt import select_run
    # +0.02 accuracy and -0.05 loss at both horizons: 0.07; test metrics never enter.
    assert abs(select_run.score(_selection_report(0.52, 0.95)) - 0.07) < 1e-12
    for name, (acc, loss) in {"seed4": (0.49, 1.02), "seed5": (0.52, 0.95), "seed6": (0.50, 1.0)}.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(_selection_report(acc, loss)))
    assert select_run.main([str(tmp_path / f"seed{s}.json") for s in (4, 5, 6)]) == 0
    out = capsys.readouterr().out
    assert "| seed5 | +0.0700 |" in out and out.strip().endswith("pick: seed5")
    report = _selection_report(0.5, 1.0)
    del report["table"][0]["at"]["2H"]
    (tmp_path / "short.json").write_text(json.dumps(report))
    assert select_run.main([str(tmp_path / "short.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no horizon 2H" in err
