"""A study's training cache as a directory: a file per dataset, read back whole, resumable."""

import json

from dimo.studies.training_cache import TrainingCache


def test_a_directory_cache_writes_each_training_to_its_datasets_file_and_reads_them_all_back(tmp_path):
    path, calls = tmp_path / "trainings", []
    cache = TrainingCache(path)
    assert cache.sharded and cache.files() == [] and cache.done == {}
    for dataset, seed in (("mnist", 0), ("digits", 0), ("mnist", 1)):
        cache.get({"dataset": dataset, "seed": seed}, lambda: calls.append(1) or {"val_loss": seed}, trained="lone")
    cache.put({"seed": 9}, {"val_loss": 9})  # a key without a dataset has a file too
    assert sorted(p.name for p in path.iterdir()) == ["digits.jsonl", "mnist.jsonl", "other.jsonl"]
    assert [json.loads(json.loads(x)["key"])["seed"] for x in (path / "mnist.jsonl").read_text().splitlines()] == [0, 1]
    again = TrainingCache(path)
    assert again.done == cache.done and len(again.done) == 4
    assert again.get({"seed": 1, "dataset": "mnist"}, lambda: calls.append(2)) == {"val_loss": 1.0}  # key order aside
    assert calls == [1, 1, 1]
    assert [e["trained"] for e in again.entries() if e["key"] != json.dumps({"seed": 9})] == ["lone"] * 3


def test_a_file_in_a_directory_cache_survives_a_line_cut_short(tmp_path):
    path = tmp_path / "trainings"
    TrainingCache(path).put({"dataset": "kmnist", "seed": 0}, {"val_loss": 1})
    with (path / "kmnist.jsonl").open("a") as f:
        f.write('{"key": "cut sho')  # a kill mid-line
    cache = TrainingCache(path)
    assert len(cache.done) == 1
    cache.put({"dataset": "kmnist", "seed": 1}, {"val_loss": 2})  # on a line of its own after the cut one
    assert TrainingCache(path).done[json.dumps({"dataset": "kmnist", "seed": 1})] == {"val_loss": 2.0}


def test_what_is_at_the_path_decides_a_file_or_a_directory_and_a_new_path_its_suffix(tmp_path):
    TrainingCache(tmp_path / "new.jsonl").put({"dataset": "mnist"}, {"v": 1})
    assert (tmp_path / "new.jsonl").is_file()  # a new .jsonl path: one file
    (tmp_path / "cache.json").write_text(json.dumps({"key": json.dumps({"dataset": "mnist"}), "metrics": {"v": 2}}) + "\n")
    old = TrainingCache(tmp_path / "cache.json")  # an existing file is one, whatever its name
    assert not old.sharded and len(old.done) == 1
    old.put({"dataset": "digits"}, {"v": 3})
    assert len((tmp_path / "cache.json").read_text().splitlines()) == 2
    (tmp_path / "d.jsonl").mkdir()  # an existing directory is one, whatever its name
    TrainingCache(tmp_path / "d.jsonl").put({"dataset": "kmnist"}, {"v": 4})
    assert (tmp_path / "d.jsonl" / "kmnist.jsonl").is_file()


def test_a_directory_cache_refuses_to_start_afresh_beside_an_older_single_file_and_odd_dataset_names(tmp_path):
    import pytest

    (tmp_path / "trainings.jsonl").write_text("")
    with pytest.raises(ValueError, match="does not exist but .*trainings.jsonl does"):
        TrainingCache(tmp_path / "trainings")  # it would retrain what the file holds
    cache = TrainingCache(tmp_path / "fresh")
    for name in ("../x", ".hidden", ""):
        with pytest.raises(ValueError, match="cannot name a cache file"):
            cache.put({"dataset": name}, {"v": 1})
    assert not (tmp_path / "x.jsonl").exists() and not (tmp_path / "fresh").exists() and cache.done == {}
