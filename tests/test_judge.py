"""The top judge's training log and ``dimo compare``'s pre-registered mode (research/comparison/
PROTOCOL.md): which entries run, which seeds train each, pairing, reuse and resume. Training and
searching are stand-ins here; the judge's training is ``evaluate.train_genotype`` under a protocol
(tested in test_evaluate.py), the searches each in their own tests."""

import json
import types

import pytest

from dimo.evaluation import judge
from dimo.search.base import SearchResult
from dimo.space import search_space
from dimo.studies import compare

A = "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
B = "|nor_conv_1x1~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
DATASET = types.SimpleNamespace(name="cifar10", image_shape=(32, 32, 3))


@pytest.fixture
def trained(monkeypatch):
    """judge.train replaced by a record of what it was asked to train."""
    calls = []

    def stand_in(genotype, dataset, protocol, seed):
        calls.append((genotype, protocol, seed))
        return {"genotype": genotype, "val_accuracy": 0.4 + seed * 1e-5, "test_accuracy": 0.5 + seed * 1e-5,
                "val_loss": 1.0, "test_loss": 1.0, "final_train_loss": 1.0, "params": 10, "train_s": 1.0}

    monkeypatch.setattr(judge, "train", stand_in)
    return calls


def test_run_seeds_are_distinct_across_runs_and_tables():
    seeds = [s for r in range(4) for s in judge.run_seeds(r)]
    assert judge.run_seeds(0) == [1000, 1001, 1002] and len(set(seeds)) == 12 and min(seeds) > 2
    with pytest.raises(ValueError, match="run >= 0"):
        judge.run_seeds(-1)


def test_training_log_trains_once_appends_and_reuses(tmp_path, trained):
    stage2 = tmp_path / "stage2.csv"
    judge.append_run(stage2, {"dataset": "cifar10", "protocol": "C", "genotype": A, "seed": 0,
                              "val_accuracy": 0.7, "test_accuracy": 0.71})
    log = judge.TrainingLog(tmp_path / "mine.csv", reuse=[stage2])
    out = log.judge(A, DATASET, "C", range(3))
    assert trained == [(A, "C", 1), (A, "C", 2)]  # seed 0 is read from the reused log
    assert out["test_accuracy_per_seed"][0] == 0.71 and out["training_seeds"] == [0, 1, 2]
    log.judge(A, DATASET, "C", range(3))
    assert len(trained) == 2  # nothing trained twice
    again = judge.TrainingLog(tmp_path / "mine.csv", reuse=[stage2])  # a new process: read from disk
    assert again.judge(A, DATASET, "C", range(3))["test_accuracy_per_seed"] == out["test_accuracy_per_seed"]
    assert len(trained) == 2 and len(judge.read_runs(tmp_path / "mine.csv")) == 2
    with pytest.raises(ValueError, match="unknown judge protocol"):
        judge.describe("D")


def test_two_processes_sharing_a_log_do_not_train_a_cell_twice(tmp_path, trained):
    path = tmp_path / "shared.csv"
    first, second = judge.TrainingLog(path), judge.TrainingLog(path)  # opened before either trained
    first.judge(A, DATASET, "C", range(2))
    second.judge(A, DATASET, "C", range(3))  # reads first's two rows from disk, trains seed 2 only
    assert trained == [(A, "C", 0), (A, "C", 1), (A, "C", 2)]
    assert first.judge(A, DATASET, "C", range(3))["training_seeds"] == [0, 1, 2] and len(trained) == 3


def test_a_row_whose_line_has_not_ended_is_not_read(tmp_path):
    path = tmp_path / "runs.csv"
    judge.append_run(path, {"dataset": "cifar10", "protocol": "C", "genotype": A, "seed": 0,
                            "val_accuracy": 0.7, "test_accuracy": 0.71})
    with path.open("a") as f:  # another process mid-row, or a kill: the accuracy cut inside a number
        f.write("cifar10,C,|nor_conv_3x3~0|,1,0.7,0.8")
    assert [r["seed"] for r in judge.read_runs(path)] == [0]
    judge.append_run(path, {"dataset": "cifar10", "protocol": "C", "genotype": A, "seed": 2,
                            "val_accuracy": 0.7, "test_accuracy": 0.72})  # the torn line is ended first ...
    assert [r["seed"] for r in judge.read_runs(path)] == [0, 2]  # ... and still not read: fields are missing


def test_a_protocol_refuses_a_dataset_at_another_size():
    with pytest.raises(ValueError, match="trains at 32x32"):
        judge.train(A, types.SimpleNamespace(name="cifar10", image_shape=(16, 16, 3)), "C", 0)


def _runs(n):
    config = types.SimpleNamespace(model=types.SimpleNamespace(channels=8, cells_per_stage=1))
    return [types.SimpleNamespace(config=config, workdir=f"runs/r{i}", seen=lambda name: False) for i in range(n)]


def test_compare_under_a_top_judge_pairs_runs_with_seeds_and_resumes(tmp_path, monkeypatch, trained):
    asked, trainings_at_search, trainings_at_judging = [], [], []

    def search(method, dataset, setup, runs=(), **_):
        asked.append((method, setup.seed, [r.workdir for r in runs]))
        trainings_at_search.append(len(trained))
        return SearchResult(method, A if setup.seed % 2 else B, 0, 1.0)

    monkeypatch.setattr(compare.search_methods, "run", search)
    cells = compare.fixed_cells(f"uniform,transferred={A}")
    assert list(cells) == ["all-nor_conv_3x3", "all-nor_conv_1x1", "all-skip_connect", "all-avg_pool_3x3",
                           "transferred"]
    judging = compare.Judging("C", DATASET, judge.TrainingLog(tmp_path / "runs.csv"), {A: 0.5, B: 0.6})
    rows_path = tmp_path / "rows.jsonl"
    result = compare.compare(_runs(2), DATASET, 600, seeds=2, methods=["random"], verify=9, progress=False,
                             judging=judging, cells=cells, rows_path=rows_path,
                             before_judging=lambda: trainings_at_judging.append(len(trained)))
    assert set(trainings_at_search) == {0} and trainings_at_judging == [0]  # every search, then the judging
    # Each run answers on its own: propose and propose-verify of run r, random search's seed r.
    assert [(m, s, w) for m, s, w in asked] == [
        ("propose", 0, ["runs/r0"]), ("propose", 1, ["runs/r1"]), ("propose-verify", 0, ["runs/r0"]),
        ("propose-verify", 1, ["runs/r1"]), ("random", 0, ["runs/r0", "runs/r1"]), ("random", 1, ["runs/r0", "runs/r1"])]
    by = {(r["method"], r["seed"]): r for r in result["rows"]}
    assert by[("propose", 1)]["training_seeds"] == [2000, 2001, 2002]  # run 1's seeds
    assert by[("cell:transferred", None)]["training_seeds"] == [0, 1, 2]  # a table's seeds
    # A cell chosen by two entries of one run trains once: B for run 0 (three entries), A for run 1.
    assert sorted(s for g, _, s in trained if g == B) == [1000, 1001, 1002]
    assert by[("random", 0)]["table_percentile"] == 50.0 and result["judge"] == "C"
    assert result["protocol"]["steps"] == 4000 and result["protocol"]["image_size"] == 32
    # A killed comparison resumes: entries in either log are not run again. Killed while judging:
    # nothing is searched again; killed while searching: the searches left, then every judging.
    searched_path = tmp_path / "searched.jsonl"
    lines, found = rows_path.read_text().splitlines(), searched_path.read_text().splitlines()
    assert len(found) == len(lines) == 11
    rows_path.write_text("\n".join(lines[:3]) + "\n")
    asked.clear()
    again = compare.compare(_runs(2), DATASET, 600, seeds=2, methods=["random"], verify=9, progress=False,
                            judging=judging, cells=cells, rows_path=rows_path)
    assert asked == [] and len(rows_path.read_text().splitlines()) == 11
    assert [(r["method"], r["seed"]) for r in again["rows"]] == [(r["method"], r["seed"]) for r in result["rows"]]
    assert json.loads(rows_path.read_text().splitlines()[-1])["method"] == "cell:transferred"
    rows_path.unlink()
    searched_path.write_text("\n".join(found[:3]) + "\n" + found[3][:20])  # a line cut by the kill
    first = compare.compare(_runs(2), DATASET, 600, seeds=2, methods=["random"], verify=9, progress=False,
                            judging=judging, cells=cells, rows_path=rows_path, searches_only=True)
    assert [(m, s) for m, s, _ in asked] == [("propose-verify", 1), ("random", 0), ("random", 1)]
    assert first == {"dataset": DATASET.name, "searched": 11, "judged": 0} and not rows_path.exists()  # nothing judged
    asked.clear()
    again = compare.compare(_runs(2), DATASET, 600, seeds=2, methods=["random"], verify=9, progress=False,
                            judging=judging, cells=cells, rows_path=rows_path)
    assert asked == [] and [r["genotype"] for r in again["rows"]] == [r["genotype"] for r in result["rows"]]
    rows_path.write_text("\n".join(lines[:3]) + "\n")  # a comparison of the one-phase code: no searched log
    searched_path.unlink()
    again = compare.compare(_runs(2), DATASET, 600, seeds=2, methods=["random"], verify=9, progress=False,
                            judging=judging, cells=cells, rows_path=rows_path)
    assert [(m, s) for m, s, _ in asked] == [("propose-verify", 1), ("random", 0), ("random", 1)]
    assert [r["genotype"] for r in again["rows"]] == [r["genotype"] for r in result["rows"]]
    with pytest.raises(ValueError, match="pairs search seed r with meta-training run r"):
        compare.compare(_runs(2), DATASET, 600, seeds=3, methods=["random"], progress=False, judging=judging)
    with pytest.raises(ValueError, match="neither 'uniform' nor NAME=GENOTYPE"):
        compare.fixed_cells("uniform,best")
    with pytest.raises(search_space.GenotypeError):
        compare.fixed_cells("x=|nor_conv_3x3~0|")
