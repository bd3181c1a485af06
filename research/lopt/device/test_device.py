"""The device scripts' bookkeeping: a merge appends only what the cache lacks, and skips cut lines."""

import json

from research.lopt.device import merge


def _key(dataset, i):
    return json.dumps({"dataset": dataset, "i": i})


def test_a_merge_appends_new_keys_once_to_their_datasets_file_and_skips_lines_cut_short(tmp_path):
    cache = tmp_path / "trainings"
    cache.mkdir()
    (cache / "mnist.jsonl").write_text(json.dumps({"key": _key("mnist", 0), "metrics": {"v": 1.0}}) + "\n")
    part = tmp_path / "new.jsonl"
    part.write_text("".join(json.dumps({"key": _key(d, i), "metrics": {"v": 2.0}, "trained": "vmapped"}) + "\n"
                            for d, i in (("mnist", 0), ("mnist", 1), ("mnist", 1), ("digits", 0)))
                    + '{"key": "d", "metr')
    assert merge.merge([part], cache) == {"appended": 2, "known": 2, "cut": 1}
    lines = {f.stem: [json.loads(x) for x in f.read_text().splitlines()] for f in cache.glob("*.jsonl")}
    assert [x["key"] for x in lines["mnist"]] == [_key("mnist", 0), _key("mnist", 1)]
    assert lines["mnist"][0]["metrics"] == {"v": 1.0} and lines["mnist"][1]["trained"] == "vmapped"  # as written
    assert [x["key"] for x in lines["digits"]] == [_key("digits", 0)]


def test_a_worker_starts_from_the_committed_cache_and_the_grids_parts(tmp_path, monkeypatch):
    from research.lopt import ahead, leave_one_out
    from research.lopt.device import worker

    (tmp_path / "trainings").mkdir()
    for name, key in (("digits", "a"), ("mnist", "b")):  # the committed cache, a file per dataset
        (tmp_path / "trainings" / f"{name}.jsonl").write_text(json.dumps({"key": key, "metrics": {}}) + "\n")
    with (tmp_path / "trainings" / "digits.jsonl").open("a") as f:
        f.write('{"key": "cut sho')  # a kill mid-line: it must not swallow mnist's first line
    (tmp_path / "parts" / "grids_mnist").mkdir(parents=True)
    (tmp_path / "parts" / "grids_mnist" / "new.jsonl").write_text(json.dumps({"key": "c", "metrics": {}}) + "\n")
    from dimo.studies import schedules
    from research import protocol

    ran = []
    for module, name in ((schedules, "load"), (protocol, "record_look")):  # the worker replaces them: restore after
        monkeypatch.setattr(module, name, getattr(module, name))
    monkeypatch.setattr(leave_one_out, "OUT", tmp_path)
    monkeypatch.setattr(leave_one_out, "CACHE", tmp_path / "trainings")
    monkeypatch.setattr(ahead, "baselines", lambda config, phase, wanted, runs, data_dir, width: ran.append(
        (phase, wanted, runs, leave_one_out.CACHE, width)) or 0)
    monkeypatch.setenv("WIDTH", "42")
    assert worker.main(["evaluations", "kmnist", str(tmp_path / "parts")]) == 0
    mine = tmp_path / "parts" / "evaluations_kmnist"
    assert ran == [("evaluations", ["kmnist"], 4, mine / "trainings.jsonl", 42)]  # a cache of its own, one file
    from dimo.studies.training_cache import TrainingCache

    assert [e["key"] for e in TrainingCache(mine / "trainings.jsonl").entries()] == ["a", "b", "c"]
    assert (mine / "before").read_text() == "4"  # run.sh returns the lines past these (the cut one counted)
    monkeypatch.setattr(leave_one_out, "CACHE", tmp_path / "trainings")  # another process
    assert worker.main(["grids", "digits,mnist", str(tmp_path / "parts")]) == 0  # SERIAL=1: all in one process
    assert ran[-1] == ("grids", ["digits", "mnist"], 4, tmp_path / "parts" / "grids_digits+mnist" / "trainings.jsonl", 42)
    monkeypatch.setattr(leave_one_out, "CACHE", tmp_path / "trainings")
    monkeypatch.setattr(ahead, "learned", lambda wanted, runs, data_dir, study: ran.append(
        ("learned", wanted, runs, leave_one_out.CACHE, study)) or 1)
    assert worker.main(["learned", "digits", str(tmp_path / "parts")]) == 0  # the kept systems' rows
    assert ran[-1] == ("learned", ["digits"], 4, tmp_path / "parts" / "learned_digits" / "trainings.jsonl", "")
    monkeypatch.setenv("STUDY", "ten")  # run.sh's STUDY=ten: the second judged run's kept systems
    assert worker.main(["learned", "kmnist", str(tmp_path / "parts")]) == 0
    assert ran[-1][-1] == "ten" and leave_one_out.kept_dir("ten") == leave_one_out.KEPT.parent / "ten" / "systems"


def test_pack_pickles_each_dataset_at_the_studys_sizes_and_carries_cifar10_as_its_source(tmp_path, monkeypatch):
    import lzma
    import pickle

    from dimo.studies import schedules
    from research.lopt.device import pack

    sizes = []
    monkeypatch.setattr(pack, "DEVDATA", tmp_path / ".devdata")
    monkeypatch.setattr(schedules, "load", lambda trained, name, data_dir=None: sizes.append(
        (name, trained.config.data.image_size)) or {"name": name})
    (tmp_path / "data" / "cifar10_jpeg").mkdir(parents=True)
    (tmp_path / "data" / "cifar10_jpeg" / "images.tar.gz").write_bytes(b"x")
    monkeypatch.setenv("DIMO_DATA_DIR", str(tmp_path / "data"))
    assert pack.main([]) == 0
    assert [n for n, _ in sizes] == ["digits", "mnist", "fashion_mnist", "kmnist", "tiny_imagenet20"]
    assert {s for _, s in sizes} == {16}  # research/lopt/configs/scheduled.py's images
    with lzma.open(tmp_path / ".devdata" / "kmnist.pkl.xz") as f:
        assert pickle.load(f) == {"name": "kmnist"}
    assert (tmp_path / ".devdata" / "data" / "cifar10_jpeg" / "images.tar.gz").read_bytes() == b"x"
