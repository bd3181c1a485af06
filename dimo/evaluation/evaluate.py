"""Train a discrete NAS-Bench-201 network from scratch and measure it on held-out data.

The network is the config-sized skeleton (C, N, resolution of the meta-training run, or
the defaults) with every cell fixed to the genotype and affine normalisation, as
NAS-Bench-201 trains its networks. Training reuses the inner loop (``InnerLoop.unroll``)
in chunks of ``chunk`` steps, so SGD, Adam and the meta-learned optimizer with its
teacher loss go through one code path; ``--optimizer learned`` also uses the proposed
learning-rate scale and weight decay when a recipe is given.
"""

from __future__ import annotations

import dataclasses
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from datasets_meta import Dataset
from datasets_meta.samplers import normalize
from dimo.inner.learned_optimizer import LOptConfig
from dimo.inner.teacher_loss import TeacherConfig
from dimo.inner.types import Recipe, make_task
from dimo.inner.unroll import InnerConfig, InnerLoop, all_finite, init_inner_state, reads_length
from dimo.space import search_space
from dimo.space.cost import network_cost
from dimo.space.supernet import Supernet


@dataclasses.dataclass(frozen=True)
class TrainSetup:
    steps: int = 500
    optimizer: str = "sgd"  # sgd | adam | learned
    loss: str = "ce"  # ce | teacher (teacher needs meta-parameters)
    learning_rate: float = 0.1  # sgd/adam
    schedule: str = "constant"  # sgd/adam: or "cosine" to 0 at `steps`, after `warmup_steps`
    warmup_steps: int = 0
    batch_size: int = 64
    channels: int = 8
    cells_per_stage: int = 1
    affine: bool = True  # NAS-Bench-201 trains with affine normalisation
    weight_decay: float = 5e-4
    horizon: int = 10  # K of meta-training: the teacher's progress is step / (lifetime or horizon), or
    # step / steps beside a learned optimizer that stretches to the training's length
    lifetime: int = 0  # meta-training's inner.lifetime (persistent inner states), or 0
    chunk: int = 50
    eval_batch: int = 500
    seed: int = 0


# Training images whose statistics normalise evaluation (see ``calibrate``).
CALIBRATION_EXAMPLES = 5000


# Jitted once: a check leaf by leaf in Python compiled two one-op programs per leaf shape.
_all_finite = jax.jit(all_finite)


@functools.partial(jax.jit, static_argnums=0)
def _batch_moments(model, params, arch_weights, images, mean, std):
    """Every normalisation layer's moments on one batch (the ``batch_stats`` tree)."""
    _, variables = model.apply({"params": params}, normalize(images, mean, std), arch_weights,
                               mutable=["batch_stats"])
    return variables["batch_stats"]


@functools.partial(jax.jit, static_argnums=0)
def _correct_and_loss(model, params, batch_stats, arch_weights, images, labels, mean, std):
    """Correct predictions and summed cross-entropy over one batch."""
    variables = {"params": params, "batch_stats": batch_stats}
    logits = model.apply(variables, normalize(images, mean, std), arch_weights)
    losses = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    return jnp.sum(jnp.argmax(logits, -1) == labels), jnp.sum(losses)


# Module-level jits keyed by the (hashable) loop: repeated trainings reuse the program.
_unroll = jax.jit(lambda loop, meta, recipe, task, state, n: loop.unroll(meta, recipe, task, state, n),
                  static_argnums=(0, 5))


def _fixed_order(n: int) -> np.ndarray:
    # Splits may be stored class by class (image folders are): calibration batches must be
    # representative mixtures, so splits are visited in a fixed random order.
    return np.random.default_rng(0).permutation(n)


def calibrate(model, params, arch_weights, dataset: Dataset, examples: int = CALIBRATION_EXAMPLES,
              batch: int = 500):
    """Normalisation statistics of the trained network, estimated on training data.

    Each layer's mean and variance over ``examples`` training images (a fixed random
    subset, in batches of ``batch``; earlier layers normalised by their batch moments, as
    in training), pooled over batches: the mean of the batch means, and the mean of the
    batch second moments minus its square. The result is the ``batch_stats`` collection
    that makes evaluation per-example (``dimo.space.operations.BatchNorm``).
    """
    images, _ = dataset.arrays("train")
    idx = _fixed_order(len(images))[:examples]
    sizes, per_batch = [], []
    for i in range(0, len(idx), batch):
        part = idx[i:i + batch]
        per_batch.append(_batch_moments(model, params, arch_weights, images[part], dataset.mean,
                                        dataset.std))
        sizes.append(len(part))
    w = np.asarray(sizes, np.float64) / np.sum(sizes)

    def pool(*layers):  # each layer: {"mean": m, "var": v} of one batch
        mean = sum(wi * l["mean"] for wi, l in zip(w, layers))
        second = sum(wi * (l["var"] + jnp.square(l["mean"])) for wi, l in zip(w, layers))
        return {"mean": mean, "var": jnp.maximum(second - jnp.square(mean), 0.0)}

    return jax.tree.map(pool, *per_batch, is_leaf=lambda t: isinstance(t, dict) and "mean" in t)


def model_metrics(model, params, batch_stats, arch_weights, dataset: Dataset, split: str,
                  batch: int = 500) -> tuple[float, float]:
    """Accuracy and mean cross-entropy of ``model`` over a whole split, in batches of ``batch``
    examples, normalised with ``batch_stats`` (from ``calibrate``)."""
    images, labels = dataset.arrays(split)
    order = _fixed_order(len(labels))
    correct, loss = 0, 0.0
    for i in range(0, len(labels), batch):
        idx = order[i:i + batch]
        c, l = _correct_and_loss(model, params, batch_stats, arch_weights, images[idx], labels[idx],
                                 dataset.mean, dataset.std)
        correct, loss = correct + int(c), loss + float(l)
    n = max(len(labels), 1)
    return correct / n, loss / n


def split_metrics(loop: InnerLoop, params, recipe: Recipe, dataset: Dataset, split: str,
                  batch: int = 500, batch_stats=None) -> tuple[float, float]:
    """Accuracy and mean cross-entropy over a whole split, in batches of ``batch`` examples.

    Normalisation uses ``batch_stats`` (from ``calibrate``; computed here when not given),
    so each prediction depends on its own example only, whatever the batch.
    """
    if batch_stats is None:
        batch_stats = calibrate(loop.model, params, recipe.arch_weights, dataset)
    return model_metrics(loop.model, params, batch_stats, recipe.arch_weights, dataset, split, batch)


def accuracy_on(loop: InnerLoop, params, recipe: Recipe, dataset: Dataset, split: str,
                batch: int = 500, batch_stats=None) -> float:
    """``split_metrics``'s accuracy."""
    return split_metrics(loop, params, recipe, dataset, split, batch, batch_stats)[0]


def measure(loop: InnerLoop, params, recipe: Recipe, dataset: Dataset, batch: int = 500) -> dict:
    """Validation and test accuracy and loss of trained ``params``, normalised with training
    statistics; zeros and infinite losses for a diverged network."""
    if not bool(_all_finite(params)):
        return {"val_accuracy": 0.0, "test_accuracy": 0.0, "val_loss": float("inf"), "test_loss": float("inf")}
    stats = calibrate(loop.model, params, recipe.arch_weights, dataset, batch=batch)
    out = {}
    for split in ("val", "test"):
        out[f"{split}_accuracy"], out[f"{split}_loss"] = split_metrics(loop, params, recipe, dataset, split,
                                                                       batch, stats)
    return out


def inner_config(setup: TrainSetup, lopt_cfg: LOptConfig, teacher_cfg: TeacherConfig) -> InnerConfig:
    """The inner loop a training runs: meta-training's K and lifetime, so the teacher's
    progress feature means what it meant in meta-training."""
    return InnerConfig(steps=setup.horizon, lifetime=setup.lifetime, batch_size=setup.batch_size,
                       optimizer=setup.optimizer, loss=setup.loss, learning_rate=setup.learning_rate,
                       # The horizon enters the (static) config only with a cosine: a constant rate
                       # keeps one compiled program for every number of steps.
                       schedule=setup.schedule, warmup_steps=setup.warmup_steps,
                       decay_steps=setup.steps if setup.schedule == "cosine" else 0,
                       # Likewise the planned length, only for a learned optimizer that stretches to it
                       # (a program per length then: five for the protocol's horizons).
                       planned_steps=setup.steps if reads_length(setup.optimizer, lopt_cfg) else 0,
                       lopt=lopt_cfg, teacher=teacher_cfg, remat=False)


def trainings(optimizer: str, lopt_cfg: LOptConfig, horizons) -> list[tuple[int, tuple[int, ...]]]:
    """``(steps, measure_at)`` of the trainings that measure one seed at every step of
    ``horizons``: one training to the longest, measured at each, or one per horizon when the
    training's length enters it (``reads_length``), since then its first n steps differ from an
    n-step training's."""
    horizons = tuple(sorted(set(horizons)))
    if reads_length(optimizer, lopt_cfg):
        return [(steps, (steps,)) for steps in horizons]
    return [(horizons[-1], horizons)]


def train_genotype(genotype: search_space.Genotype, dataset: Dataset, setup: TrainSetup, meta=None,
                   lopt_cfg: LOptConfig = LOptConfig(), teacher_cfg: TeacherConfig = TeacherConfig(),
                   lr_scale: float = 1.0, weight_decay: float | None = None, progress: bool = True,
                   measure_at: tuple[int, ...] = (), on_chunk=None) -> dict:
    """Trains ``genotype`` on ``dataset``'s train split; returns accuracies, times, curve.

    ``lr_scale`` multiplies the optimizer's rate (a proposal's recipe, or a tuned rate for
    sgd/adam with ``learning_rate=1``); ``weight_decay`` defaults to ``setup.weight_decay``.
    At each step of ``measure_at`` the network is measured (``measure``) into ``measured``.
    ``on_chunk(step, state, metrics)``, if given, sees the inner state after every unrolled
    chunk (diagnostics such as ``research/lopt/teacher_phi.py`` read the teacher's input there).
    """
    from tqdm.auto import tqdm

    if (setup.optimizer == "learned" or setup.loss == "teacher") and meta is None:
        raise ValueError("the learned optimizer and teacher loss need meta-parameters: pass a "
                         "--workdir of a meta-training run")
    cfg = inner_config(setup, lopt_cfg, teacher_cfg)
    model = Supernet(dataset.num_classes, setup.channels, setup.cells_per_stage, affine=setup.affine,
                     genotype=genotype)
    loop = InnerLoop(model, cfg)
    decay = setup.weight_decay if weight_decay is None else weight_decay
    recipe = Recipe(jnp.asarray(genotype.one_hot()), jnp.asarray(lr_scale, jnp.float32),
                    jnp.asarray(decay, jnp.float32))
    meta = meta if meta is not None else {"optimizer": None, "teacher": None}
    task = make_task(dataset)
    state = init_inner_state(loop, jax.random.key(setup.seed), meta, recipe, task)
    stops = sorted(s for s in set(measure_at) if 0 < s <= setup.steps)
    curve, measured, start, done = [], [], time.perf_counter(), 0
    bar = tqdm(total=setup.steps, desc=f"train {setup.optimizer}/{setup.loss}", disable=not progress,
               leave=False, dynamic_ncols=True)
    while done < setup.steps:
        n = min([setup.chunk, setup.steps - done] + [s - done for s in stops if s > done])
        state, metrics = _unroll(loop, meta, recipe, task, state, n)
        done += n
        if on_chunk is not None:
            on_chunk(done, state, metrics)
        entry = {"step": done, "train_loss": float(jnp.mean(metrics["train_loss"]))}
        curve.append(entry)
        if done in stops:
            measured.append({"step": done, **measure(loop, state.params, recipe, dataset, setup.eval_batch)})
        bar.update(n)
        bar.set_postfix(loss=f"{entry['train_loss']:.3f}")
    bar.close()
    jax.block_until_ready(state.params)
    train_s = time.perf_counter() - start
    cost = network_cost(model, genotype, dataset.image_shape)
    finite = bool(_all_finite(state.params))
    final = measured[-1] if measured and measured[-1]["step"] == done else measure(
        loop, state.params, recipe, dataset, setup.eval_batch)
    return {"genotype": str(genotype), "dataset": dataset.name, "optimizer": setup.optimizer,
            "loss": setup.loss, "steps": setup.steps, "seed": setup.seed, "schedule": setup.schedule,
            "warmup_steps": setup.warmup_steps,
            "val_accuracy": final["val_accuracy"], "test_accuracy": final["test_accuracy"],
            "val_loss": final["val_loss"], "test_loss": final["test_loss"], "measured": measured,
            "normalisation": f"statistics of {CALIBRATION_EXAMPLES} training images",
            "final_train_loss": curve[-1]["train_loss"], "train_s": train_s, "params": cost.params,
            "flops": cost.flops, "diverged": not finite, "curve": curve}


def setup_for(config, **overrides) -> TrainSetup:
    """A TrainSetup sized like a meta-training config (C, N, batch, horizon)."""
    base = dict(channels=config.model.channels, cells_per_stage=config.model.cells_per_stage,
                batch_size=config.inner.batch_size, horizon=config.inner.steps,
                lifetime=config.inner.lifetime)
    base.update({k: v for k, v in overrides.items() if v is not None})
    return TrainSetup(**base)


def learned_configs(config) -> tuple[LOptConfig, TeacherConfig]:
    return LOptConfig(**config.lopt.to_dict()), TeacherConfig(**config.teacher.to_dict())


def mean_std(values) -> tuple[float, float]:
    values = np.asarray(values, np.float64)
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0
