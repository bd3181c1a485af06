"""The differentiable inner loop: K steps of training as one ``lax.scan``, and its meta-loss.

The contract is learned_optimization's: ``InnerLoop.init`` makes the inner state (fresh
network parameters, optimizer state, student statistics, PRNG key); ``InnerLoop.step``
samples a minibatch, computes the (teacher or cross-entropy) loss through the model with
the recipe's architecture weights, takes its gradient and applies the chosen optimizer;
``InnerLoop.unroll`` scans ``step`` (rematerialised, so memory stays flat in K);
``InnerLoop.meta_loss`` is the validation cross-entropy after K steps from a fresh
init. ``jax.value_and_grad`` of it reaches the learned optimizer, the teacher and
everything in the ``Recipe`` (architecture weights, learning-rate scale, weight decay).

Truncated unrolls (``segment_loss``): a long horizon is cut into segments; each segment
continues from the carried (gradient-stopped) state and gives its own meta-gradient.

Meta-parameters of the loop itself are a dict ``{"optimizer": theta, "teacher": params}``
(``init_meta_params``); with ``optimizer="sgd"|"adam"`` or ``loss="ce"`` the unused part
gets a zero gradient.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import chex
import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import optax

from datasets_meta.samplers import Split, normalize, sample_task_batch
from dimo.infra import faults
from dimo.inner import learned_optimizer as lopt
from dimo.inner import meta_objective, shadow_rate, teacher_loss
from dimo.inner.types import Recipe, Task
from dimo.space import search_space

OPTIMIZERS = ("learned", "sgd", "adam")
LOSSES = ("teacher", "ce")
SCHEDULES = ("constant", "cosine")


def reads_length(optimizer: str, lopt_cfg: lopt.LOptConfig) -> bool:
    """Whether a training's planned length enters it: only a learned optimizer that sees any
    training as its meta-trained life stretched to the length (``lopt.stretch_to_length``), and
    the teacher's progress beside it. Such a training's first n steps depend on its length."""
    return optimizer == "learned" and bool(lopt_cfg.stretch_to_length)


@dataclasses.dataclass(frozen=True)
class InnerConfig:
    steps: int = 10  # K, the length of one differentiated unroll
    # Inner steps a persistent inner state lives (dimo.inner.truncation); 0: a fresh init for every
    # unroll. The teacher's progress feature is normalised by it (else by K; by planned_steps when
    # the learned optimizer stretches to them).
    lifetime: int = 0
    batch_size: int = 64
    val_batch_size: int = 256
    optimizer: str = "learned"
    loss: str = "teacher"
    learning_rate: float = 0.1  # sgd/adam base rate; the learned optimizer has its own
    momentum: float = 0.9  # sgd only
    # sgd/adam's rate over the steps: "constant", or "cosine" (a linear warm-up over
    # warmup_steps, then a cosine to 0 at decay_steps, the evaluated horizon).
    schedule: str = "constant"
    warmup_steps: int = 0
    decay_steps: int = 0
    # A training's planned length, for a learned optimizer with ``lopt.stretch_to_length`` (and
    # the teacher's progress beside it); 0 in meta-training, where a life is ``lifetime`` steps.
    planned_steps: int = 0
    remat: bool = True
    # What the validation batch after a truncation scores (dimo.inner.meta_objective).
    meta_loss: str = "ce"
    # With persistent states: weight each slot's meta-loss by the age its network is scored at,
    # 1 on average over a life (dimo.inner.truncation.age_weight; #36, hypothesis 1).
    age_weighted: bool = False
    # With persistent states, how the decoded rate's meta-gradient is taken: "truncated" (within
    # the K-step segment, as every other one) or "shadow" (over the slot's whole life, from a
    # shadow network at a slightly higher rate: dimo.inner.shadow_rate).
    rate_gradient: str = "truncated"
    # Test-only NaN/Inf injection (dimo.infra.faults). Static: off, the hook is not in the program.
    inject_faults: bool = False
    lopt: lopt.LOptConfig = lopt.LOptConfig()
    teacher: teacher_loss.TeacherConfig = teacher_loss.TeacherConfig()

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"inner.optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"inner.loss must be one of {LOSSES}, got {self.loss!r}")
        for name in ("steps", "batch_size", "val_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"inner.{name} must be at least 1, got {getattr(self, name)}")
        if self.lifetime and (self.lifetime < self.steps or self.lifetime % self.steps):
            raise ValueError(f"inner.lifetime must be 0 or a multiple of inner.steps={self.steps}, "
                             f"got {self.lifetime}")
        meta_objective.meta_loss_fn(self.meta_loss)  # a clear error for an unknown name
        if self.age_weighted and not self.lifetime:
            raise ValueError("inner.age_weighted needs persistent inner states (inner.lifetime > 0): "
                             "without them every network is scored at the same age")
        if self.rate_gradient not in shadow_rate.RATE_GRADIENTS:
            raise ValueError(f"inner.rate_gradient must be one of {shadow_rate.RATE_GRADIENTS}, "
                             f"got {self.rate_gradient!r}")
        if self.rate_gradient == "shadow" and not self.lifetime:
            raise ValueError("inner.rate_gradient='shadow' needs persistent inner states (inner.lifetime > 0): "
                             "a fresh network every unroll has no life beyond the truncation")
        if self.learning_rate <= 0:
            raise ValueError(f"inner.learning_rate must be positive, got {self.learning_rate}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"inner.schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.schedule == "cosine" and not 0 <= self.warmup_steps < self.decay_steps:
            raise ValueError(f"a cosine schedule needs 0 <= warmup_steps < decay_steps, got "
                             f"{self.warmup_steps} and {self.decay_steps}")


@flax.struct.dataclass
class InnerState:
    params: Any
    opt_state: Any
    step: jax.Array
    student: teacher_loss.StudentState  # what the teacher reads
    key: jax.Array


def all_finite(tree) -> jax.Array:
    """Whether every floating-point entry of ``tree`` is finite (PRNG keys and integer
    counters are skipped); one reduction, so jitted it is one program per tree structure."""
    inexact = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in inexact]))


# Jitted, as ``init_inner_state``: run op by op, flax's initialisers cost seconds of tiny
# compiles and dispatches.
@functools.partial(jax.jit, static_argnums=1)
def init_meta_params(key, cfg: InnerConfig) -> dict[str, Any]:
    opt_key, teacher_key = jax.random.split(key)
    return {"optimizer": lopt.init_theta(opt_key, cfg.lopt),
            "teacher": teacher_loss.init_teacher(teacher_key, cfg.teacher)}


@dataclasses.dataclass(frozen=True)
class InnerLoop:
    """Training of ``model`` (called as ``model.apply(v, x, arch_weights)``) under ``cfg``.

    Frozen and hashable: it can be closed over or passed as a static argument of ``jit``.
    """

    model: nn.Module
    cfg: InnerConfig

    @property
    def progress_steps(self) -> int:
        """The steps over which the teacher's progress feature goes from 0 to 1."""
        cfg = self.cfg
        stretched = cfg.planned_steps if reads_length(cfg.optimizer, cfg.lopt) else 0
        return stretched or cfg.lifetime or cfg.steps

    def optimizer(self, meta, recipe: Recipe) -> optax.GradientTransformation:
        cfg = self.cfg
        if cfg.optimizer == "learned":
            base = lopt.learned_optimizer(meta["optimizer"], cfg.lopt, recipe.lr_scale, cfg.planned_steps or None)
        else:
            rate = cfg.learning_rate * recipe.lr_scale
            if cfg.schedule == "cosine":
                shape = optax.warmup_cosine_decay_schedule(0.0, 1.0, cfg.warmup_steps, cfg.decay_steps, 0.0)
                rate = lambda count, peak=rate: peak * shape(count)  # noqa: E731
            if cfg.optimizer == "sgd":
                base = optax.sgd(rate, momentum=cfg.momentum)
            else:
                # eps_root > 0: the derivative of sqrt(v) at v = 0 (a parameter whose gradient is
                # exactly zero) is infinite, and the meta-gradient through Adam would be NaN.
                base = optax.adam(rate, eps_root=1e-16)
        return optax.chain(optax.add_decayed_weights(recipe.weight_decay), base)

    def batch(self, key, split: Split, task: Task, size: int):
        images, labels = sample_task_batch(key, split, task.classes, size)
        return normalize(images, task.mean, task.std), labels

    def init(self, key, meta, recipe: Recipe, task: Task) -> InnerState:
        chex.assert_shape(recipe.arch_weights, (search_space.NUM_EDGES, search_space.NUM_OPS))
        param_key, data_key = jax.random.split(key)
        example = jnp.zeros((1,) + task.train.images.shape[1:], recipe.arch_weights.dtype)
        params = self.model.init(param_key, example, recipe.arch_weights)["params"]
        params = jax.tree.map(lambda p: p.astype(recipe.arch_weights.dtype), params)
        student = teacher_loss.initial_student_state(task.num_classes, recipe.arch_weights.dtype)
        return InnerState(params, self.optimizer(meta, recipe).init(params), jnp.zeros([], jnp.int32),
                          student, data_key)

    def step(self, meta, recipe: Recipe, task: Task, state: InnerState):
        cfg = self.cfg
        key, batch_key = jax.random.split(state.key)
        x, y = self.batch(batch_key, task.train, task, cfg.batch_size)
        x = x.astype(recipe.arch_weights.dtype)
        inject = faults.inject if cfg.inject_faults else (lambda tree, site, code: tree)
        x = inject(x, "batch", task.fault)

        phi = teacher_loss.teacher_phi(meta["teacher"], cfg.teacher, state.student) if cfg.loss == "teacher" else None

        def loss_fn(params):
            logits = self.model.apply({"params": params}, x, recipe.arch_weights)
            ce = teacher_loss.cross_entropy(logits, y)
            return (ce if phi is None else teacher_loss.teacher_loss(phi, logits, y)), (ce, logits)

        (_, (ce, logits)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
        # Trace-time checks (free at run time): one logit row per example, a rank-0 loss.
        chex.assert_shape(logits, (cfg.batch_size, task.num_classes))
        chex.assert_rank(ce, 0)
        grads = inject(grads, "inner_gradient", task.fault)
        updates, opt_state = self.optimizer(meta, recipe).update(grads, state.opt_state, state.params)
        # A learned optimizer must return an update of every parameter's shape and dtype.
        chex.assert_trees_all_equal_shapes_and_dtypes(updates, state.params)
        updates = inject(updates, "optimizer_output", task.fault)
        params = optax.apply_updates(state.params, updates)
        student = teacher_loss.observe(state.student, logits, y, ce, (state.step + 1) / self.progress_steps)
        new_state = InnerState(params, opt_state, state.step + 1, student, key)
        return new_state, {"train_loss": ce, "train_accuracy": student.batch_accuracy}

    def unroll(self, meta, recipe: Recipe, task: Task, state: InnerState, num_steps: int):
        """``num_steps`` steps as one scan; returns (state, per-step metrics stacked)."""
        step = self.step
        if self.cfg.remat:
            # Recompute each step's activations in the backward pass: memory flat in K.
            step = jax.checkpoint(step, prevent_cse=False)
        return jax.lax.scan(lambda s, _: step(meta, recipe, task, s), state, None, length=num_steps)

    def evaluate(self, params, recipe: Recipe, task: Task, key, split: str = "val"):
        """The meta-loss (``cfg.meta_loss``) and accuracy on one batch of ``val_batch_size`` from ``split``."""
        x, y = self.batch(key, getattr(task, split), task, self.cfg.val_batch_size)
        logits = self.model.apply({"params": params}, x.astype(recipe.arch_weights.dtype),
                                  recipe.arch_weights)
        return meta_objective.meta_loss_fn(self.cfg.meta_loss)(logits, y), jnp.mean(jnp.argmax(logits, -1) == y)

    def segment_loss(self, meta, recipe: Recipe, task: Task, state: InnerState, num_steps: int, key):
        """Validation loss after ``num_steps`` more steps from ``state`` (a truncation).

        The incoming state is a constant: meta-gradients of one segment do not reach
        into earlier segments, as in truncated backpropagation through time.
        """
        state = jax.lax.stop_gradient(state)
        state, metrics = self.unroll(meta, recipe, task, state, num_steps)
        val_loss, val_accuracy = self.evaluate(state.params, recipe, task, key)
        aux = {"val_loss": val_loss, "val_accuracy": val_accuracy,
               "train_loss": metrics["train_loss"], "train_accuracy": metrics["train_accuracy"]}
        return val_loss, (state, aux)

    def meta_loss(self, meta, recipe: Recipe, task: Task, key):
        """Validation cross-entropy after ``cfg.steps`` steps from a fresh init; (loss, aux)."""
        init_key, val_key = jax.random.split(key)
        state = self.init(init_key, meta, recipe, task)
        loss, (_, aux) = self.segment_loss(meta, recipe, task, state, self.cfg.steps, val_key)
        return loss, aux


# ``InnerLoop.init`` for callers outside a trace: one compiled program per loop and shapes.
init_inner_state = jax.jit(InnerLoop.init, static_argnums=0)
