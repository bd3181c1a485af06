"""research/lopt/PROTOCOL.md's baselines (``dimo ablate --schedules``): the grid, the choice on
validation at each horizon, the cache, and the rows. Training is a stand-in here: the schedule
itself is tested in test_schedules' neighbour test_inner_loop (warm-up and cosine), the trainings
in test_cli_studies."""

import json
import types

import numpy as np
import pytest

from dimo.configs import smoke
from dimo.evaluation import evaluate
from dimo.studies import schedules

GENOTYPE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_the_grids_span_two_decades_in_seven_points_and_three_decays():
    for rates in schedules.LEARNING_RATES.values():
        assert len(rates) == 7 and rates[-1] / rates[0] == pytest.approx(100)
    assert len(schedules.WEIGHT_DECAYS) == 3 and schedules.train_setup(200)["warmup_steps"] == 10


def test_tuning_chooses_on_validation_and_reports_both_choices():
    calls = []

    def train(optimizer, lr, wd, setup, seed):
        calls.append((lr, wd, seed, setup["schedule"], setup["warmup_steps"]))
        accuracy = 1 - abs(lr - 0.1) - wd  # best at 0.1, the smallest decay
        loss = abs(lr - 0.2154) + wd  # a loss that prefers the next rate up
        return {"val_accuracy": accuracy + 0.001 * seed, "val_loss": loss, "test_accuracy": 0.0}

    out = schedules.tuned(train, "sgd", steps=200, tuning_seeds=(0, 1))
    assert len(calls) == 7 * 3 * 2 and {c[3:] for c in calls} == {("cosine", 10)}
    assert out["chosen"]["learning_rate"] == pytest.approx(0.1) and out["chosen"]["weight_decay"] == 5e-5
    assert out["chosen_by_val_loss"]["learning_rate"] == pytest.approx(0.2154, abs=1e-3)
    assert not out["on_the_grid_edge"]
    assert all("test_accuracy" not in s for s in out["grid"])  # nothing chosen or kept from test


def test_the_cache_keeps_finished_trainings_and_survives_a_cut_line(tmp_path):
    path, calls = tmp_path / "c.jsonl", []
    cache = schedules.TrainingCache(path)
    assert cache.get({"a": 1}, lambda: calls.append(1) or {"val_loss": 2}) == {"val_loss": 2.0}
    with path.open("a") as f:
        f.write('{"key": "cut sho')  # a kill mid-line
    again = schedules.TrainingCache(path)
    assert again.get({"a": 1}, lambda: calls.append(2) or {"val_loss": 3}) == {"val_loss": 2.0} and calls == [1]
    again.get({"b": 1}, lambda: {"val_loss": 4})  # written on a line of its own after the cut one
    assert schedules.TrainingCache(path).done[json.dumps({"b": 1})] == {"val_loss": 4.0}


def test_horizons_are_the_protocols_merged_where_equal():
    config = smoke.get_config()
    config.inner.update(steps=10, lifetime=200)
    assert schedules.lopt_horizons(config) == {10: "K", 40: "4K", 200: "H", 400: "2H", 2000: "10H"}
    config.inner.lifetime = 0  # H = K without persistent states
    assert schedules.lopt_horizons(config) == {10: "K=H", 20: "2H", 40: "4K", 100: "10H"}
    assert schedules.lopt_horizons(config, h=200) == {10: "K", 40: "4K", 200: "H", 400: "2H", 2000: "10H"}


def test_each_horizon_tunes_and_trains_its_own_schedule_and_the_learned_row_is_measured_along_one(
        tmp_path, monkeypatch):
    trainings = []

    def stand_in(genotype, dataset, setup, meta=None, lopt_cfg=None, teacher_cfg=None, lr_scale=1.0,
                 weight_decay=None, progress=True, measure_at=()):
        trainings.append((dataset.name, setup.optimizer, setup.steps, setup.schedule, lr_scale, weight_decay,
                          setup.seed))
        acc = 0.5 + setup.seed * 1e-3 - abs(np.log10(lr_scale) + (1 if setup.optimizer == "sgd" else 3)) * 0.01
        metrics = {"val_accuracy": acc, "val_loss": 1 - acc, "test_accuracy": acc, "test_loss": 1 - acc}
        return {**metrics, "measured": [{"step": s, **metrics} for s in measure_at]}

    monkeypatch.setattr(evaluate, "train_genotype", stand_in)
    config = smoke.get_config()
    config.inner.update(steps=5, lifetime=0)
    run = types.SimpleNamespace(config=config, params=None)
    target = types.SimpleNamespace(name="target", val_labels=np.arange(5))
    meta = [types.SimpleNamespace(name=n, val_labels=np.arange(5)) for n in ("m1", "m2")]
    recipe = types.SimpleNamespace(lr_scale=2.0, weight_decay=1e-4)
    horizons = {5: "K", 10: "2H"}
    cache = schedules.TrainingCache(tmp_path / "c.jsonl")
    result = schedules.at_horizons(run, GENOTYPE, target, meta, horizons, [1000, 1001], cache, recipe)
    learned = [t for t in trainings if t[1] == "learned"]
    assert [(t[2], t[4], t[6]) for t in learned] == [(10, 2.0, 1000), (10, 2.0, 1001)]  # one training per seed
    rows = {(r["baseline"], r["horizon"]): r for r in result["rows"]}
    assert list(rows)[:2] == [("learned_teacher", "K"), ("learned_teacher", "2H")]  # the config's loss
    assert rows[("sgd_schedule_tuned_meta_train", "K")]["learning_rate"] == pytest.approx(0.1)
    assert rows[("adam_schedule_tuned_held_out", "2H")]["learning_rate"] == pytest.approx(1e-3)
    assert len(rows) == 2 + 2 * 2 * 2 and all(len(r["test_accuracy"]) == 2 for r in rows.values())
    baseline = [t for t in trainings if t[1] != "learned"]
    assert {t[2:4] for t in baseline} == {(5, "cosine"), (10, "cosine")}
    # 21 grid points x 2 tuning seeds x 3 datasets (two meta-training, the target) x 2 horizons x 2
    # optimizers, then the chosen pairs on the target with the evaluation seeds (a few coincide).
    tuning = [t for t in baseline if t[6] in schedules.TUNING_SEEDS]
    assert len(tuning) == 21 * 2 * 3 * 2 * 2 and {t[6] for t in baseline} == {0, 1, 1000, 1001}
    trainings.clear()
    again = schedules.at_horizons(run, GENOTYPE, target, meta, horizons, [1000, 1001],
                                  schedules.TrainingCache(tmp_path / "c.jsonl"), recipe)
    assert trainings == []  # every training came from the cache, the learned optimizer's too
    assert again["rows"] == result["rows"]


def test_a_learned_optimizer_that_stretches_to_its_length_trains_once_per_horizon(tmp_path, monkeypatch):
    # Its first n steps depend on the planned length, so the n-step figure needs an n-step training.
    learned = []

    def stand_in(genotype, dataset, setup, meta=None, lopt_cfg=None, teacher_cfg=None, lr_scale=1.0,
                 weight_decay=None, progress=True, measure_at=()):
        if setup.optimizer == "learned":
            learned.append((setup.steps, setup.seed, tuple(measure_at), lopt_cfg.stretch_to_length))
        metrics = {"val_accuracy": setup.steps / 100, "val_loss": 1.0, "test_accuracy": 0.5, "test_loss": 1.0}
        return {**metrics, "measured": [{"step": s, **metrics} for s in measure_at]}

    monkeypatch.setattr(evaluate, "train_genotype", stand_in)
    config = smoke.get_config()
    config.inner.update(steps=5, lifetime=10)
    config.lopt.progress_horizon = 10
    config.lopt.stretch_to_length = True
    run = types.SimpleNamespace(config=config, params=None)
    target = types.SimpleNamespace(name="target", val_labels=np.arange(5))
    recipe = types.SimpleNamespace(lr_scale=1.0, weight_decay=1e-4)
    result = schedules.at_horizons(run, GENOTYPE, target, [target], {5: "K", 20: "2H"}, [7, 8],
                                   schedules.TrainingCache(tmp_path / "c.jsonl"), recipe, tune_on_target=False,
                                   optimizers=())
    assert learned == [(5, 7, (5,), True), (20, 7, (20,), True), (5, 8, (5,), True), (20, 8, (20,), True)]
    rows = {r["horizon"]: r for r in result["rows"]}
    assert rows["K"]["val_accuracy"] == [0.05, 0.05] and rows["2H"]["val_accuracy"] == [0.2, 0.2]


def test_ablate_measures_a_stretching_optimizer_by_one_training_per_horizon(monkeypatch):
    from dimo.studies import ablate

    calls = []

    def stand_in(trained, genotype, dataset, optimizer, loss, recipe, steps, seed, lr=1.0, measure_at=()):
        calls.append((optimizer, steps, tuple(measure_at)))
        return {"measured": [{"step": s, "val_accuracy": steps / 100} for s in measure_at],
                "curve": [{"step": steps}]}

    monkeypatch.setattr(ablate, "_train", stand_in)
    config = smoke.get_config()
    config.inner.update(steps=5, lifetime=10)
    labels = {5: "K", 10: "H", 20: "2H"}
    for stretched in (False, True):
        config.lopt.progress_horizon, config.lopt.stretch_to_length = 10, stretched
        run = types.SimpleNamespace(config=config)
        calls.clear()
        learned = ablate._train_at(run, GENOTYPE, None, "learned", "ce", None, labels, 0)
        adam = ablate._train_at(run, GENOTYPE, None, "adam", "ce", None, labels, 0, 1e-3)
        if stretched:
            assert calls == [("learned", 5, (5,)), ("learned", 10, (10,)), ("learned", 20, (20,)),
                             ("adam", 20, tuple(labels))]
            assert [m["val_accuracy"] for m in learned["measured"]] == [0.05, 0.1, 0.2]
        else:
            assert calls == [("learned", 20, tuple(labels)), ("adam", 20, tuple(labels))]
        assert [m["step"] for m in learned["measured"]] == [5, 10, 20] and learned["curve"] == [{"step": 20}]
        assert [m["step"] for m in adam["measured"]] == [5, 10, 20]


def test_learned_trainings_are_cached_by_the_meta_trained_parameters(tmp_path, monkeypatch):
    # A study stopped after its learned rows does not train them again; other parameters do train.
    learned = []

    def stand_in(genotype, dataset, setup, meta=None, lopt_cfg=None, teacher_cfg=None, lr_scale=1.0,
                 weight_decay=None, progress=True, measure_at=()):
        learned.append(float(meta["w"][0]))
        metrics = {"val_accuracy": float(meta["w"][0]), "val_loss": 1.0, "test_accuracy": 0.5, "test_loss": 1.0}
        return {**metrics, "measured": [{"step": s, **metrics} for s in measure_at]}

    monkeypatch.setattr(evaluate, "train_genotype", stand_in)
    config = smoke.get_config()
    config.inner.update(steps=5, lifetime=0)
    target = types.SimpleNamespace(name="target", val_labels=np.arange(5))
    recipe = types.SimpleNamespace(lr_scale=1.0, weight_decay=1e-4)
    rows = lambda params: schedules.learned_rows(  # noqa: E731
        types.SimpleNamespace(config=config, params=params), GENOTYPE, target, recipe, {5: "K", 10: "2H"}, [7],
        "ce", schedules.TrainingCache(tmp_path / "c.jsonl"))
    first = rows({"w": np.array([0.25])})
    assert rows({"w": np.array([0.25])}) == first and learned == [0.25]  # the same parameters: from the cache
    other = rows({"w": np.array([0.75])})
    assert learned == [0.25, 0.75] and other[1]["val_accuracy"] == [0.75]
