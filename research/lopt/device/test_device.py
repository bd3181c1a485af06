"""The device scripts' bookkeeping: a merge appends only what the cache lacks, and skips cut lines."""

import json

from research.lopt.device import merge


def test_a_merge_appends_new_keys_once_and_skips_lines_cut_short(tmp_path):
    cache = tmp_path / "trainings.jsonl"
    cache.write_text(json.dumps({"key": "a", "metrics": {"v": 1.0}}) + "\n")
    part = tmp_path / "new.jsonl"
    part.write_text("".join(json.dumps({"key": k, "metrics": {"v": 2.0}, "trained": "vmapped"}) + "\n"
                            for k in ("a", "b", "b", "c")) + '{"key": "d", "metr')
    assert merge.merge([part], cache) == {"appended": 2, "known": 2, "cut": 1}
    lines = [json.loads(x) for x in cache.read_text().splitlines()]
    assert [x["key"] for x in lines] == ["a", "b", "c"] and lines[0]["metrics"] == {"v": 1.0}


def test_a_worker_starts_from_the_committed_cache_and_the_grids_parts(tmp_path, monkeypatch):
    from research.lopt import leave_one_out
    from research.lopt.device import worker

    (tmp_path / "trainings.jsonl").write_text('{"key": "a"}\n')
    (tmp_path / "parts" / "grids_mnist").mkdir(parents=True)
    (tmp_path / "parts" / "grids_mnist" / "new.jsonl").write_text('{"key": "b"}\n')
    from dimo.studies import schedules
    from research import protocol

    ran = []
    for module, name in ((schedules, "load"), (protocol, "record_look")):  # the worker replaces them: restore after
        monkeypatch.setattr(module, name, getattr(module, name))
    monkeypatch.setattr(leave_one_out, "OUT", tmp_path)
    monkeypatch.setattr(leave_one_out, "prefill_baselines", lambda config, phase, wanted, runs, data_dir, width: ran.append(
        (phase, wanted, runs, leave_one_out.OUT, width)) or 0)
    monkeypatch.setenv("WIDTH", "42")
    assert worker.main(["evaluations", "kmnist", str(tmp_path / "parts")]) == 0
    mine = tmp_path / "parts" / "evaluations_kmnist"
    assert ran == [("evaluations", ["kmnist"], 4, mine, 42)]  # on a cache of its own, at run.sh's width
    assert worker.main(["grids", "digits,mnist", str(tmp_path / "parts")]) == 0  # WORKERS=1: all in one process
    assert ran[-1] == ("grids", ["digits", "mnist"], 4, tmp_path / "parts" / "grids_digits+mnist", 42)
    assert (mine / "trainings.jsonl").read_text() == '{"key": "a"}\n{"key": "b"}\n' and (mine / "before").read_text() == "2"


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
