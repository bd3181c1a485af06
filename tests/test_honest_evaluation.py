"""Measurements that cannot mislead: per-example evaluation, Adam's meta-gradient at zero
gradients, the lossy CIFAR-10 copy announced."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import data_files as files
from datasets_meta import load
from datasets_meta.registry import CIFAR10_NAMES
from dimo.evaluation import evaluate
from dimo.space import search_space
from dimo.space.supernet import Supernet
from dimo.inner.unroll import InnerConfig, InnerLoop
from dimo.inner.types import Recipe, make_task

GENOTYPE = search_space.Genotype.from_string(
    "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|")


@pytest.fixture(scope="module")
def digits():
    return load("digits", image_size=8)


def test_evaluation_normalises_with_training_statistics_not_the_test_batch(digits):
    model = Supernet(digits.num_classes, 4, 1, affine=True, genotype=GENOTYPE)
    arch = jnp.asarray(GENOTYPE.one_hot())
    params = model.init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), arch)["params"]
    stats = evaluate.calibrate(model, params, arch, digits, examples=600, batch=200)
    images, _ = digits.arrays("test")
    x = (images[:16].astype(np.float32) / 255.0 - digits.mean) / digits.std
    variables = {"params": params, "batch_stats": stats}
    together = model.apply(variables, x, arch)
    alone = jnp.concatenate([model.apply(variables, x[i:i + 1], arch) for i in range(4)])
    # A prediction depends on its own example only: the same alone or among others.
    np.testing.assert_allclose(alone, together[:4], rtol=1e-4, atol=1e-5)
    # Whereas the training-mode forward (the batch's own statistics) is transductive.
    train_mode = model.apply({"params": params}, x, arch)
    assert not np.allclose(train_mode[:4], model.apply({"params": params}, x[:4], arch), atol=1e-3)
    loop = InnerLoop(model, InnerConfig())
    recipe = Recipe(arch, jnp.ones([]), jnp.zeros([]))
    small = evaluate.accuracy_on(loop, params, recipe, digits, "test", batch=7, batch_stats=stats)
    large = evaluate.accuracy_on(loop, params, recipe, digits, "test", batch=500, batch_stats=stats)
    assert small == large


def test_calibration_pools_batches_into_population_statistics(digits):
    model = Supernet(digits.num_classes, 4, 1, affine=True, genotype=GENOTYPE)
    arch = jnp.asarray(GENOTYPE.one_hot())
    params = model.init(jax.random.key(0), jnp.zeros((1, 8, 8, 3)), arch)["params"]
    one = evaluate.calibrate(model, params, arch, digits, examples=400, batch=400)
    four = evaluate.calibrate(model, params, arch, digits, examples=400, batch=100)
    # The stem normalisation sees raw images: its pooled moments are exact whatever the batch.
    for key in ("mean", "var"):
        np.testing.assert_allclose(four["stem_bn"][key], one["stem_bn"][key], rtol=1e-4, atol=1e-6)


class _WithSwitchedOffBranch(nn.Module):
    """A linear classifier plus a branch scaled by an architecture weight that is 0, as an op
    of a one-hot cell is: the branch's gradient is exactly 0, yet computed from everything."""

    num_classes: int

    @nn.compact
    def __call__(self, x, arch_weights):
        x = x.reshape(x.shape[0], -1)
        branch = nn.Dense(self.num_classes, name="branch")(x)
        return nn.Dense(self.num_classes)(x) + arch_weights[0, 0] * branch


def test_meta_gradient_through_adam_is_finite_where_a_gradient_is_exactly_zero(digits):
    task = make_task(digits, classes=[0, 1, 2])
    loop = InnerLoop(_WithSwitchedOffBranch(3), InnerConfig(steps=3, batch_size=16, val_batch_size=32,
                                                            optimizer="adam", loss="ce",
                                                            learning_rate=1e-2, remat=False))
    recipe = Recipe(jnp.asarray(GENOTYPE.one_hot()), jnp.ones([]), jnp.zeros([]))  # [0, 0] is 0
    meta = {"optimizer": None, "teacher": None}
    grad = jax.grad(lambda r: loop.meta_loss(meta, r, task, jax.random.key(0))[0])(recipe)
    assert np.isfinite(float(grad.lr_scale)) and float(grad.lr_scale) != 0.0


def test_the_lossy_cifar10_copy_is_announced_once(tmp_path, capsys):
    members = files.image_tree_members(classes=CIFAR10_NAMES, per_class=2, test_per_class=1, size=8)
    files.write_image_tree(tmp_path / "cifar10_jpeg", members)
    first = load("cifar10", tmp_path, image_size=8)
    load("cifar10", tmp_path, image_size=8)
    err = capsys.readouterr().err
    assert err.count("note: cifar10 is read from") == 1 and "lossy JPEG" in err
    assert "lossy" in first.metadata["note"]


def test_without_faults_configured_the_fault_hook_is_not_in_the_program(digits):
    task = make_task(digits, classes=[0, 1, 2])
    recipe = Recipe(jnp.asarray(search_space.uniform_arch_weights()), jnp.ones([]), jnp.zeros([]))
    meta = {"optimizer": None, "teacher": None}

    def fault_uses(inject_faults: bool) -> int:
        loop = InnerLoop(_WithSwitchedOffBranch(3), InnerConfig(optimizer="sgd", loss="ce",
                                                                inject_faults=inject_faults))
        state = loop.init(jax.random.key(0), meta, recipe, task)
        jaxpr = jax.make_jaxpr(lambda code: loop.step(meta, recipe, task.replace(fault=code), state))(
            jnp.int32(0)).jaxpr
        code = jaxpr.invars[0]
        return sum(code in eqn.invars for eqn in jaxpr.eqns)

    assert fault_uses(True) > 0 and fault_uses(False) == 0


def test_configs_are_not_installed_as_a_top_level_package():
    # `configs` is a name many projects use; DiMO's live in dimo.configs, and the repository's
    # configs/*.py (loaded by path) re-export them.
    import tomllib
    from pathlib import Path

    from dimo.configs import default

    root = Path(__file__).resolve().parents[1]
    include = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    assert all(pattern.split("*")[0] in ("dimo", "datasets_meta") for pattern in include), include
    assert not (root / "configs" / "__init__.py").exists()
    namespace = {}
    exec((root / "configs" / "default.py").read_text(), namespace)
    assert namespace["get_config"]().to_dict() == default.get_config().to_dict()


def test_the_recommended_config_is_what_ships_and_meta_trains_on_meta_training_datasets_only():
    # The README says dimo/pretrained/ is the recommended recipe: its config.json must be the
    # config's (tools/build_pretrained.py builds it), and only meta-training datasets train it.
    import json
    from pathlib import Path

    from dimo.configs import default, recommended
    from dimo.infra import looks
    from dimo.meta import config as meta_config

    root = Path(__file__).resolve().parents[1]
    config = recommended.get_config()
    assert config.datasets.split(",") == looks.roles()["meta_training"]
    shipped = json.loads((root / "dimo" / "pretrained" / "system" / "config.json").read_text())
    migrated = json.loads(json.dumps(meta_config.migrate(config).to_dict()))  # as meta-training saves it
    # A switch added since (meta_config.ADDED_KEYS, at its off value) loads as if it were held.
    shipped = json.loads(json.dumps(meta_config.migrate(shipped).to_dict()))
    assert shipped == migrated, "rebuild: python -m tools.build_pretrained"
    shorter = default.get_config()  # the default is it at a shorter length, on digits (offline)
    shorter.update(datasets=config.datasets, meta=dict(config.meta, steps=config.meta.steps))
    assert shorter.to_dict() == config.to_dict() and default.get_config().meta.steps < config.meta.steps
    namespace = {}
    exec((root / "configs" / "recommended.py").read_text(), namespace)
    assert namespace["get_config"]().to_dict() == config.to_dict()


def test_building_the_shipped_system_refuses_a_run_that_stopped_early(tmp_path, monkeypatch, capsys):
    # A signal stops meta-training with a checkpoint at an early step; that run once replaced the
    # shipped system. It must leave dimo/pretrained/ as it was.
    from tools import build_pretrained
    from dimo.meta import meta_train

    target = tmp_path / "pretrained"
    (target / "system").mkdir(parents=True)
    (target / "manifest.json").write_text("{}")
    monkeypatch.setattr(build_pretrained, "TARGET", target)
    monkeypatch.setattr(meta_train, "run", lambda config, workdir, **kw: {})  # stopped before a checkpoint
    rc = build_pretrained.main(["--steps", "3", "--workdir", str(tmp_path / "run")])
    assert rc == 1 and "unchanged" in capsys.readouterr().err
    assert (target / "manifest.json").read_text() == "{}" and (target / "system").is_dir()


def test_evaluation_scales_the_teachers_progress_as_meta_training_did():
    # With persistent inner states the teacher saw progress = step / lifetime in meta-training;
    # evaluation once used step / K, telling it training was over 20x too early.
    from dimo.evaluation import evaluate as evaluate_lib
    from dimo.configs import default

    config = default.get_config()
    config.inner.lifetime = 200  # persistent states, as research/proposals/configs/propose.py has them
    setup = evaluate_lib.setup_for(config, steps=400, optimizer="learned", loss="teacher")
    inner = evaluate_lib.inner_config(setup, *evaluate_lib.learned_configs(config))
    assert (inner.steps, inner.lifetime) == (config.inner.steps, config.inner.lifetime) == (10, 200)


def test_a_stretching_optimizer_and_its_teacher_see_the_planned_length_and_others_do_not(monkeypatch):
    # research/lopt/configs/stretch.py: a T-step training is the meta-trained life stretched to T,
    # for the learned optimizer's time features and its teacher's progress alike; a switch the
    # config validation refuses unless the optimizer's life is the persistent states'. Without it,
    # or beside a hand-written optimizer, nothing depends on T (one compiled program for every length).
    import types

    from dimo.evaluation import evaluate as evaluate_lib
    from dimo.final import config as final_config
    from dimo.final import step as final_step
    from dimo.inner import learned_optimizer as lopt
    from dimo.inner.unroll import InnerLoop
    from dimo.meta import config as meta_config
    from research.lopt.configs import stretch

    lengths, real = [], lopt.learned_optimizer

    def recording(theta, cfg, lr_scale=1.0, length=None):
        lengths.append(length)
        return real(theta, cfg, lr_scale, length)

    monkeypatch.setattr(lopt, "learned_optimizer", recording)
    config = meta_config.migrate(stretch.get_config())
    meta_config.validate(config)
    lopt_cfg, teacher_cfg = evaluate_lib.learned_configs(config)
    theta = lopt.init_theta(jax.random.key(0), lopt_cfg)
    recipe = types.SimpleNamespace(lr_scale=1.0, weight_decay=0.0)
    for stretched, optimizer, planned, progress_steps in ((True, "learned", 400, 400), (False, "learned", 0, 200),
                                                          (True, "sgd", 0, 200)):
        config.lopt.stretch_to_length = stretched
        setup = evaluate_lib.setup_for(config, steps=400, optimizer=optimizer, loss="teacher")
        inner = evaluate_lib.inner_config(setup, *evaluate_lib.learned_configs(config))
        loop = InnerLoop(None, inner)
        assert (inner.planned_steps, loop.progress_steps) == (planned, progress_steps)
        lengths.clear()
        loop.optimizer({"optimizer": theta}, recipe)
        assert lengths == ([planned or None] if optimizer == "learned" else [])
    # The final trainer hands the optimizer its (traced) horizon; read only with the switch on.
    trainer = final_step.Trainer(None, final_config.preset("small", optimizer="learned"), lopt_cfg)
    hyper = final_step.Hyper(*(jnp.float32(v) for v in (1234, 10, 1, 0)))
    lengths.clear()
    trainer.optimizer(theta, hyper)
    assert [float(n) for n in lengths] == [1234.0]
    for lopt_overrides in ({"progress_horizon": 0}, {"progress_horizon": 100}):  # no life, or not the states'
        config.lopt.update(stretch_to_length=True, **lopt_overrides)
        with pytest.raises(meta_config.ConfigError, match="lopt.stretch_to_length=True is invalid"):
            meta_config.validate(config)
    config.lopt.update(progress_horizon=config.inner.lifetime, stretch_to_length=False, base_schedule=True)
    with pytest.raises(meta_config.ConfigError, match="lopt.base_schedule=True is invalid"):
        meta_config.validate(config)  # a schedule over an unstretched life would stop training past it
