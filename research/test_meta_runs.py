"""The studies' way to start meta-training runs."""


def test_a_studys_own_arguments_and_the_config_overrides_after_a_double_dash():
    from research import meta_runs

    assert meta_runs.split_overrides(["--fold", "kmnist", "--", "--config.meta.steps=3"]) == (
        ["--fold", "kmnist"], ["--config.meta.steps=3"])
    assert meta_runs.split_overrides(["--summary"]) == (["--summary"], [])


def test_a_run_with_checkpoints_is_resumed_and_its_time_summed_over_sessions(tmp_path, monkeypatch):
    import json

    from research import meta_runs

    commands = []
    monkeypatch.setattr(meta_runs.subprocess, "run", lambda command, **k: commands.append(command))
    monkeypatch.setattr(meta_runs, "finished", lambda workdir: True)
    # Two sessions: time_s restarts at the resume (train_meta.py counts from its process's start).
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "time_s": t}) + "\n"
                                                    for s, t in ((1, 3.0), (2, 7.5), (3, 2.0), (4, 4.0))))
    assert meta_runs.meta_train("c.py", ["digits"], 0, tmp_path) == 11.5
    assert "--resume" not in commands[-1] and "--config.seed=0" in commands[-1]
    (tmp_path / "checkpoints").mkdir()
    meta_runs.meta_train("c.py", ["digits", "mnist"], 1, tmp_path, ["--config.meta.steps=9"])
    assert commands[-1][-2:] == ["--config.meta.steps=9", "--resume"] and "digits,mnist" in commands[-1]


def test_a_validation_result_is_recorded_once_and_a_failure_is_one_error_line(tmp_path, capsys):
    import argparse
    import json
    import subprocess

    from research import meta_runs

    out = tmp_path / "record.jsonl"
    args = argparse.Namespace(variant="v", fold="mnist", seed=0)
    row = meta_runs.validate_and_record(lambda a, o: {"variant": a.variant, "fold": a.fold, "seed": a.seed,
                                                      "overrides": o}, args, ["--x=1"], out)
    assert meta_runs.read_records(out) == [row] and row["overrides"] == ["--x=1"]
    assert json.loads((tmp_path / "record.manifest.json").read_text())["result"] == "record.jsonl"
    assert meta_runs.validate_and_record(lambda a, o: 1 / 0, args, [], out) is None  # never run again
    assert "already holds v on mnist with seed 0" in capsys.readouterr().err

    def fails(error):
        def validate(a, o):
            raise error
        return validate

    other = argparse.Namespace(variant="w", fold="mnist", seed=0)
    for error, says in ((ValueError("bad fold"), "error: bad fold"),
                        (subprocess.CalledProcessError(3, "train_meta.py"), "exit 3")):
        assert meta_runs.validate_and_record(fails(error), other, [], out) is None
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and says in err and "\n" not in err
    assert len(meta_runs.read_records(out)) == 1 and json.loads(out.read_text().splitlines()[0]) == row


def test_a_run_is_finished_when_its_summary_counts_every_step_its_config_asks_for(tmp_path):
    import json

    from research import meta_runs

    assert not meta_runs.finished(tmp_path)  # no run at all
    (tmp_path / "config.json").write_text(json.dumps({"meta": {"steps": 200}}))
    assert not meta_runs.finished(tmp_path)  # started, no summary yet
    (tmp_path / "summary.json").write_text(json.dumps({"steps": 120}))
    assert not meta_runs.finished(tmp_path)  # stopped early: the same command resumes it
    (tmp_path / "summary.json").write_text(json.dumps({"steps": 200}))
    assert meta_runs.finished(tmp_path)
    (tmp_path / "summary.json").write_text('{"ste')  # torn
    assert not meta_runs.finished(tmp_path)


def test_a_run_is_locked_while_it_trains_so_two_processes_train_it_once(tmp_path, monkeypatch):
    import fcntl

    import pytest

    from research import meta_runs

    workdir = tmp_path / "runs" / "a_seed0"
    held = []

    def train(command, **k):  # another process asking for the run now would wait
        with open(tmp_path / "runs" / ".a_seed0.lock") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.append(command)
        (workdir / "checkpoints").mkdir(parents=True, exist_ok=True)
        (workdir / "metrics.jsonl").write_text('{"step": 1, "time_s": 2.0}\n')

    monkeypatch.setattr(meta_runs.subprocess, "run", train)
    monkeypatch.setattr(meta_runs, "finished", lambda workdir: True)
    meta_runs.meta_train("c.py", ["digits"], 0, workdir)
    meta_runs.meta_train("c.py", ["digits"], 0, workdir)  # after the first: a resume of the finished run
    assert len(held) == 2 and "--resume" not in held[0] and "--resume" in held[1]



def test_a_finished_run_is_exported_once_and_loads_back_with_the_same_parameters(smoke_workdir, tmp_path):
    import json

    from dimo.meta import trained
    from dimo.studies import schedules
    from research import meta_runs

    kept = tmp_path / "systems" / "smoke_seed0"
    assert meta_runs.keep(smoke_workdir, kept, command="train_meta.py --config c.py", asked={"seed": 0})
    assert sorted(p.name for p in kept.iterdir()) == ["config.json", trained.PARAMS_FILE, "summary.json"]
    original, back = trained.load(smoke_workdir), trained.load(kept)
    digest = schedules.params_digest(original.params)
    assert schedules.params_digest(back.params) == digest and back.step == original.step
    assert back.config.to_dict() == original.config.to_dict()
    record = json.loads((tmp_path / "systems" / "smoke_seed0.manifest.json").read_text())
    assert record["params_digest"] == digest and record["meta_step"] == original.step and record["asked"] == {"seed": 0}
    assert meta_runs.is_kept(kept) and meta_runs.kept_seconds(kept) == meta_runs.elapsed(smoke_workdir)
    assert not meta_runs.keep(smoke_workdir, kept)  # kept once: left as it is
    assert sorted(p.name for p in (tmp_path / "systems").iterdir()) == ["smoke_seed0", "smoke_seed0.manifest.json"]


def test_an_unfinished_run_is_not_kept_and_a_kept_run_is_not_trained_again(tmp_path, monkeypatch):
    import json

    import pytest

    from dimo.infra import manifest
    from research import meta_runs

    unfinished = tmp_path / "runs" / "a_seed0"
    (unfinished / "checkpoints").mkdir(parents=True)
    (unfinished / "config.json").write_text(json.dumps({"meta": {"steps": 200}}))
    assert not meta_runs.keep(unfinished, tmp_path / "systems" / "a_seed0")
    assert not (tmp_path / "systems").exists()

    kept = tmp_path / "systems" / "b_seed0"  # as keep leaves it (its contents stand in)
    kept.mkdir(parents=True)
    (kept / "params.msgpack").write_bytes(b"")
    asked = {"config": "c.py", "datasets": ["digits"], "seed": 0, "overrides": []}
    manifest.write_manifest(kept, command="c", meta_training_s=9.0, asked=asked)
    commands, kept_calls = [], []
    monkeypatch.setattr(meta_runs.subprocess, "run", lambda command, **k: commands.append(command))
    monkeypatch.setattr(meta_runs, "keep", lambda workdir, to, command=None, asked=None: kept_calls.append(to))
    assert meta_runs.meta_train("c.py", ["digits"], 0, tmp_path / "runs" / "b_seed0", kept=kept) == 9.0
    assert commands == [] and kept_calls == []
    with pytest.raises(ValueError, match="keeps the run asked for as"):  # another length: not this run
        meta_runs.meta_train("c.py", ["digits"], 0, tmp_path / "runs" / "b_seed0", ["--config.meta.steps=9"], kept=kept)
    (kept / "params.msgpack").unlink()  # cut short: not kept, so trained (resumed) and kept again
    assert not meta_runs.is_kept(kept)
    (unfinished / "metrics.jsonl").write_text('{"step": 1, "time_s": 2.0}\n')
    with pytest.raises(meta_runs.Stopped) as stopped:  # train_meta.py stopped by a signal: exit 0, unfinished
        meta_runs.meta_train("c.py", ["digits"], 0, unfinished, kept=tmp_path / "systems" / "a_seed0")
    assert "--resume" in commands[-1] and kept_calls == []  # neither kept nor read as finished
    assert meta_runs.why(stopped.value) == "stopped before its last meta-step (a signal)"
    (unfinished / "summary.json").write_text('{"steps": 200}')  # resumed to its end
    meta_runs.meta_train("c.py", ["digits"], 0, unfinished, kept=tmp_path / "systems" / "a_seed0")
    assert kept_calls == [tmp_path / "systems" / "a_seed0"]
