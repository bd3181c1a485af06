"""``dimo.evaluation.many``: trainings vmapped over rate, weight decay and seed are the lone
trainings (to rounding), one compiled program serves any members of a width, and
``dimo.studies.prefill`` fills exactly the cache entries a study reads."""

import json
import types

import jax
import numpy as np
import pytest

from datasets_meta import load
from dimo.configs import smoke
from dimo.evaluation import evaluate, many
from dimo.space import search_space
from dimo.studies import prefill, schedules

GENOTYPE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_3x3~2|"
SETUP = evaluate.TrainSetup(steps=6, optimizer="adam", learning_rate=1.0, schedule="cosine", warmup_steps=1,
                            batch_size=16, channels=4, chunk=2, eval_batch=100)


@pytest.fixture(scope="module")
def digits():
    return load("digits", image_size=8)


def test_the_traced_schedule_is_optaxs_warmup_cosine():
    import jax.numpy as jnp
    import optax

    for warmup, steps in ((1, 6), (2, 4), (10, 200), (100, 2000)):
        shape = optax.warmup_cosine_decay_schedule(0.0, 1.0, warmup, steps, 0.0)
        counts = jnp.arange(steps + 3)
        ours = many.warmup_cosine(counts, jnp.float32(warmup), jnp.float32(steps))
        np.testing.assert_allclose(ours, jax.vmap(shape)(counts), atol=1e-6)


def test_each_member_is_the_lone_training_with_its_rate_decay_seed_and_length(digits):
    genotype = search_space.Genotype.from_string(GENOTYPE)
    # two members whose length and warm-up are not the setup's, beside one that runs the setup's 6 steps
    members = [many.Member(3e-2, 5e-4, 1000, steps=4, warmup_steps=2),
               many.Member(1e-2, 5e-5, 1, steps=4, warmup_steps=2), many.Member(1e-2, 5e-5, 1)]
    together = many.train_many(genotype, digits, SETUP, members, width=4)  # one padded member, dropped
    assert len(together) == 3 and [r["steps"] for r in together] == [4, 4, 6]
    assert together[2]["val_loss"] != together[1]["val_loss"]  # trained on past the others' end
    for m, ours in zip(members[:2], together):  # one lone program (a length's cosine is compiled in)
        alone = evaluate.train_genotype(genotype, digits, evaluate.dataclasses.replace(
            SETUP, seed=m.seed, steps=m.steps or SETUP.steps, warmup_steps=m.warmup_steps or SETUP.warmup_steps),
            lr_scale=m.lr_scale, weight_decay=m.weight_decay, progress=False)
        for metric in ("val_accuracy", "test_accuracy"):
            assert ours[metric] == pytest.approx(alone[metric], abs=2 / len(digits.test_labels))
        for metric in ("val_loss", "test_loss"):
            assert ours[metric] == pytest.approx(alone[metric], rel=1e-3)
    assert together[0]["val_loss"] != together[1]["val_loss"]  # the members differ


def test_one_program_serves_any_members_of_a_width(digits):
    genotype = search_space.Genotype.from_string(GENOTYPE)
    many.train_many(genotype, digits, SETUP, [(1e-3, 0.0, 0)], width=4)  # the width the test above compiled
    before = many._unroll_many._cache_size()
    again = many.train_many(genotype, digits, SETUP, [(2e-3, 1e-4, 5), (1e-2, 0.0, 6)], width=4)
    assert many._unroll_many._cache_size() == before and len(again) == 2
    with pytest.raises(ValueError, match="width 1 is smaller than the 2 members"):
        many.train_many(genotype, digits, SETUP, [(1e-3, 0.0, 0)] * 2, width=1)


def test_prefill_leaves_a_study_no_baseline_to_train(tmp_path, monkeypatch):
    calls = []

    def stand_in(genotype, dataset, setup, members, width=None, **_):  # a rate's accuracy, by its distance to 1e-2
        calls.append((dataset.name, setup.optimizer, setup.steps, len(members), width))
        members = [many.Member(*m) for m in members]
        assert {m.steps for m in members} <= set(horizons) and all(  # each member warms up over 5 % of its length
            m.warmup_steps == schedules.train_setup(m.steps)["warmup_steps"] for m in members)
        # the lone trainings' setup (evaluate.setup_for at the config's sizes), and fp32 arithmetic
        assert (setup.learning_rate, setup.loss, setup.schedule, setup.affine, setup.batch_size) == (
            1.0, "ce", "cosine", config.model.affine, config.inner.batch_size)
        assert jax.config.jax_default_matmul_precision == "highest"
        out = []
        for lr, wd, seed, *_ in members:
            acc = 0.9 - abs(np.log10(lr) + 2) * 0.1 - wd + seed * 1e-6
            out.append({"val_accuracy": acc, "val_loss": 1 - acc, "test_accuracy": acc, "test_loss": 1 - acc,
                        "train_s": 0.0})
        return out

    monkeypatch.setattr(many, "train_many", stand_in)
    config = smoke.get_config()
    target = types.SimpleNamespace(name="target", val_labels=np.arange(5))
    meta = [types.SimpleNamespace(name=n, val_labels=np.arange(5)) for n in ("m1", "m2")]
    genotype = search_space.Genotype.from_string(GENOTYPE)
    cache = schedules.TrainingCache(tmp_path / "c.jsonl")
    horizons = {5: "K", 10: "2H"}
    assert prefill.tuning_grids(config, genotype, [*meta, target], horizons, cache) == 3 * 2 * 2 * 42
    assert {c[2:] for c in calls} == {(10, 84, 210)}  # every horizon's grid in one call of the full width
    trained = prefill.evaluations(config, genotype, target, meta, horizons, [1000, 1001], cache)
    assert 0 < trained <= 2 * 2 * 2 * 2  # the chosen (rate, decay) of both sources x 2 seeds, shared where equal
    assert prefill.tuning_grids(config, genotype, [*meta, target], horizons, cache) == 0  # all there: none again

    def no_baseline(genotype, dataset, setup, *args, **kwargs):
        assert setup.optimizer == "learned", f"the study trained a baseline the prefill left out: {setup}"
        metrics = {"val_accuracy": 0.5, "val_loss": 1.0, "test_accuracy": 0.5, "test_loss": 1.0}
        return {**metrics, "measured": [{"step": s, **metrics} for s in kwargs.get("measure_at", ())]}

    monkeypatch.setattr(evaluate, "train_genotype", no_baseline)
    run = types.SimpleNamespace(config=config, params=None)
    recipe = types.SimpleNamespace(lr_scale=1.0, weight_decay=1e-4)
    result = schedules.at_horizons(run, genotype, target, meta, horizons, [1000, 1001],
                                   schedules.TrainingCache(tmp_path / "c.jsonl"), recipe)
    adam = {r["horizon"]: r for r in result["rows"] if r["baseline"] == "adam_schedule_tuned_meta_train"}
    assert adam["K"]["learning_rate"] == pytest.approx(1e-2)
    lines = [json.loads(line) for line in (tmp_path / "c.jsonl").read_text().splitlines()]
    lines = [x for x in lines if "optimizer" in json.loads(x["key"])]  # the baselines' (the learned rows' are lone)
    assert {(x["trained"], x["precision"]) for x in lines} == {("vmapped", "highest")}  # how each was trained
    tuning = [x for x in lines if json.loads(x["key"])["seed"] in schedules.TUNING_SEEDS]
    assert tuning and not any(m.startswith("test") for x in tuning for m in x["metrics"])  # chosen on validation
