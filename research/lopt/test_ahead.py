"""The parts of the study that run ahead of its units (``research.lopt.ahead``): the learned rows,
the vmapped baselines, and what the cache lacks of the tuning grids."""

import json

from research.lopt import ahead
from research.lopt import leave_one_out as loo


def test_missing_grids_counts_what_the_cache_lacks_per_optimizer_and_horizon(tmp_path, monkeypatch, capsys):
    from dimo.studies import prefill, schedules

    monkeypatch.setattr(loo, "CACHE", tmp_path / "trainings")
    config_path = "research/lopt/configs/scheduled.py"
    config, trained, genotype, horizons = ahead.study_setup(config_path)
    assert horizons == [10, 40, 200, 400, 2000]
    digits = schedules.load(trained, "digits")
    cache = schedules.TrainingCache(loo.CACHE)
    done = [m for m in prefill.grid_members("sgd", horizons) if m[3] == 2000][:5] + prefill.grid_members("adam", [10])
    for lr, wd, seed, steps in done:
        cache.put(schedules.training_key(config, genotype, digits, "sgd" if steps == 2000 else "adam", lr, wd,
                                         schedules.train_setup(steps), seed), {"val_accuracy": 0.5})
    lacking = ahead.missing_grids(config_path, ["digits"], None)
    assert lacking == {"digits": {"adam": {40: 42, 200: 42, 400: 42, 2000: 42},
                                  "sgd": {10: 42, 40: 42, 200: 42, 400: 42, 2000: 37}}}
    assert loo.main(["--config", config_path, "--missing", "--tested", "digits"]) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == {"dataset": "digits", **{
        o: {str(k): v for k, v in c.items()} for o, c in lacking["digits"].items()}}


def test_baselines_only_fills_every_grid_then_each_tested_datasets_chosen_and_records_held_out_looks(
        tmp_path, monkeypatch):
    import types

    from dimo.studies import prefill, schedules
    from research import protocol

    calls, looks = [], []
    monkeypatch.setattr(loo, "OUT", tmp_path)
    monkeypatch.setattr(loo, "CACHE", tmp_path / "trainings")
    monkeypatch.setattr(schedules, "load", lambda trained, name, data_dir=None: types.SimpleNamespace(name=name))
    monkeypatch.setattr(prefill, "tuning_grids", lambda config, g, datasets, horizons, cache, width: calls.append(
        ("grids", [d.name for d in datasets], horizons, width, cache.path)) or 7)
    monkeypatch.setattr(prefill, "evaluations", lambda config, g, target, meta, horizons, seeds, cache, width: calls.append(
        ("evaluations", target.name, [d.name for d in meta], seeds)) or width)
    monkeypatch.setattr(protocol, "record_look", lambda dataset, result, **k: looks.append(dataset))
    config = "research/lopt/configs/scheduled.py"
    assert ahead.baselines(config, "grids", [], 4, None) == 7
    assert calls[0] == ("grids", [*protocol.META_TRAINING, *protocol.HELD_OUT], [10, 40, 200, 400, 2000], prefill.WIDTH,
                        tmp_path / "trainings")  # a whole grid a program, into the study's cache
    assert ahead.baselines(config, "grids", ["digits"], 4, None, width=42) == 7 and calls.pop()[3] == 42
    assert ahead.baselines(config, "evaluations", ["kmnist", "cifar10"], 2, None) == 2 * prefill.WIDTH
    assert calls[1:] == [("evaluations", "kmnist", ["digits", "mnist", "fashion_mnist"], [1000, 1001, 1002, 2000, 2001, 2002]),
                         ("evaluations", "cifar10", list(protocol.META_TRAINING), [1000, 1001, 1002, 2000, 2001, 2002])]
    assert looks == ["cifar10"]  # said before the held-out test split is read, never for a meta-training one
    assert ahead.baselines(config, "evaluations", ["kmnist"], 2, None, width=42) == 42  # run.sh's WIDTH too


def test_learned_ahead_trains_the_learned_rows_of_finished_meta_trainings_only_and_records_held_out_looks(
        tmp_path, monkeypatch):
    import types

    from dimo.studies import schedules
    from research import meta_runs, protocol

    config = types.SimpleNamespace(inner=types.SimpleNamespace(loss="teacher", steps=10, lifetime=200))
    asked, looks = [], []
    monkeypatch.setattr(loo, "OUT", tmp_path)
    monkeypatch.setattr(loo, "CACHE", tmp_path / "trainings")
    monkeypatch.setattr(loo, "KEPT", tmp_path / "systems")
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "digits_run0.json").write_text("{}")  # a finished unit: nothing ahead of it
    finished = {loo.meta_training_dir(["mnist", "fashion_mnist", "kmnist"], r).name for r in (0, 1)}
    finished.add(loo.meta_training_dir(list(protocol.META_TRAINING), 0).name)
    kept = tmp_path / "systems" / loo.meta_training_dir(["mnist", "fashion_mnist", "kmnist"], 2).name
    kept.mkdir(parents=True)  # meta-trained on another machine: kept, no workdir here
    (kept / "params.msgpack").write_bytes(b"")
    (kept.parent / f"{kept.name}.manifest.json").write_text("{}")  # whole: its parameters and manifest
    monkeypatch.setattr(meta_runs, "finished", lambda workdir: workdir.name in finished)
    loaded = []
    monkeypatch.setattr(loo, "meta_trained", lambda path, tested, data_dir: loaded.append(path) or (
        types.SimpleNamespace(config=config), types.SimpleNamespace(name=tested), None))
    monkeypatch.setattr(schedules, "learned_rows", lambda trained, g, target, recipe, horizons, seeds, loss, cache:
                        asked.append((target.name, seeds[0], loss, list(horizons), cache.path)))
    monkeypatch.setattr(protocol, "record_look", lambda dataset, result, **k: looks.append(dataset))
    assert ahead.learned([], 3, None) == 4  # digits runs 1 and 2, then cifar10's and tiny_imagenet20's run 0
    assert [a[:3] for a in asked] == [("digits", 2000, "teacher"), ("digits", 2000, "ce"),  # as run_one asks
                                      ("digits", 3000, "teacher"), ("digits", 3000, "ce"),
                                      ("cifar10", 1000, "teacher"), ("cifar10", 1000, "ce"),
                                      ("tiny_imagenet20", 1000, "teacher"), ("tiny_imagenet20", 1000, "ce")]
    assert loaded[1] == kept and loaded[0].parent.name == "lopt_leave_one_out"  # kept, or this machine's runs/
    assert asked[0][3:] == ([10, 40, 200, 400, 2000], tmp_path / "trainings")
    assert looks == ["cifar10", "tiny_imagenet20"]  # before their test splits are read
    # The second judged run (--study ten): its own systems and units, its looks named for it.
    asked.clear(), looks.clear(), loaded.clear()
    monkeypatch.setattr(meta_runs, "finished", lambda workdir: False)  # none meta-trained on this machine
    ten = tmp_path / "ten" / "systems" / loo.meta_training_dir(list(protocol.META_TRAINING), 1, "ten").name
    ten.mkdir(parents=True)
    (ten / "params.msgpack").write_bytes(b"")
    (ten.parent / f"{ten.name}.manifest.json").write_text("{}")
    (tmp_path / "ten" / "runs").mkdir()
    (tmp_path / "ten" / "runs" / "cifar10_run1.json").write_text("{}")  # its unit is done: only tiny_imagenet20's
    recorded = []
    monkeypatch.setattr(protocol, "record_look", lambda dataset, result, **k: recorded.append((dataset, k["what"])))
    assert ahead.learned(["cifar10", "tiny_imagenet20"], 2, None, "ten") == 1
    assert loaded == [ten] and [a[:3] for a in asked] == [("tiny_imagenet20", 2000, "teacher"),
                                                          ("tiny_imagenet20", 2000, "ce")]
    assert recorded == [("tiny_imagenet20", recorded[0][1])] and "(ten), run 1" in recorded[0][1]
