"""The studies' way to start meta-training runs."""


def test_a_studys_own_arguments_and_the_config_overrides_after_a_double_dash():
    from research import meta_runs

    assert meta_runs.split_overrides(["--fold", "kmnist", "--", "--config.meta.steps=3"]) == (
        ["--fold", "kmnist"], ["--config.meta.steps=3"])
    assert meta_runs.split_overrides(["--summary"]) == (["--summary"], [])


def test_a_finished_run_is_read_not_resumed(tmp_path, monkeypatch):
    import json

    import pytest

    from research import meta_runs

    def started(*a, **k):
        raise AssertionError("a finished run was started again")

    monkeypatch.setattr(meta_runs.subprocess, "run", started)
    (tmp_path / "metrics.jsonl").write_text(json.dumps({"step": 1, "time_s": 3.0}) + "\n"
                                            + json.dumps({"step": 2, "time_s": 7.5}) + "\n")
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(AssertionError, match="started again"):  # no summary yet: resumed
        meta_runs.meta_train("c.py", ["digits"], 0, tmp_path)
    (tmp_path / "summary.json").write_text("{}")
    assert meta_runs.meta_train("c.py", ["digits"], 0, tmp_path) == 7.5
