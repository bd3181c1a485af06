"""The compiled part of a final training: its state, its optimizer and a chunk of steps.

The training's length is an argument (``horizon``, traced), not part of the program: a time
budget is turned into a number of epochs only after the program has been compiled and timed,
and the same program then trains for that many.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import flax.linen as nn
import flax.struct
import jax
import jax.numpy as jnp
import numpy as np
import optax

from datasets_meta.samplers import normalize
from dimo.final.augment import crop_and_flip
from dimo.final.config import FinalConfig
from dimo.inner import learned_optimizer as lopt


@flax.struct.dataclass
class TrainState:
    params: Any
    opt_state: Any
    step: jax.Array  # steps taken
    key: jax.Array  # augmentation noise; the data order comes from the step (see ``epoch_order``)


@flax.struct.dataclass
class Hyper:
    """The traced numbers of a training: one compiled program serves every value."""

    horizon: jax.Array  # total steps; the cosine reaches 0 there
    warmup: jax.Array  # warm-up steps
    lr_scale: jax.Array  # a proposal's learning-rate scale (1 without one)
    weight_decay: jax.Array


def warmup_cosine(count, peak, warmup, horizon):
    """A linear warm-up over ``warmup`` steps, then a cosine from ``peak`` to 0 at ``horizon``.
    optax's schedules check their lengths in Python; here they are traced values."""
    count = count.astype(jnp.float32)
    warm = count / jnp.maximum(warmup, 1.0)
    progress = jnp.clip((count - warmup) / jnp.maximum(horizon - warmup, 1.0), 0.0, 1.0)
    return peak * jnp.where(count < warmup, warm, 0.5 * (1.0 + jnp.cos(jnp.pi * progress)))


@dataclasses.dataclass(frozen=True)
class Trainer:
    """How one network is trained (hashable: the static part of the compiled programs)."""

    model: nn.Module
    cfg: FinalConfig
    lopt_cfg: lopt.LOptConfig | None = None  # the learned optimizer's shape (optimizer="learned")

    def optimizer(self, meta, hyper: Hyper) -> optax.GradientTransformation:
        cfg = self.cfg
        if cfg.optimizer == "learned":
            base = lopt.learned_optimizer(meta, self.lopt_cfg, hyper.lr_scale, hyper.horizon)
        else:
            rate = functools.partial(warmup_cosine, peak=cfg.learning_rate * hyper.lr_scale,
                                     warmup=hyper.warmup, horizon=hyper.horizon)
            base = (optax.sgd(rate, momentum=cfg.momentum, nesterov=cfg.nesterov) if cfg.optimizer == "sgd"
                    else optax.adam(rate))
        return optax.chain(optax.add_decayed_weights(hyper.weight_decay), base)

    def init(self, key, meta, hyper: Hyper, arch_weights, image_shape) -> TrainState:
        param_key, noise_key = jax.random.split(key)
        params = self.model.init(param_key, jnp.zeros((1,) + tuple(image_shape)), arch_weights)["params"]
        return TrainState(params, self.optimizer(meta, hyper).init(params), jnp.zeros([], jnp.int32), noise_key)

    def step(self, meta, hyper: Hyper, arch_weights, state: TrainState, images, labels, mean, std):
        key, noise = jax.random.split(state.key)
        x = crop_and_flip(noise, normalize(images, mean, std), self.cfg.crop_padding, self.cfg.flip)

        def loss_fn(params):
            logits = self.model.apply({"params": params}, x, arch_weights)
            return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))

        loss, grads = jax.value_and_grad(loss_fn)(state.params)
        updates, opt_state = self.optimizer(meta, hyper).update(grads, state.opt_state, state.params)
        return TrainState(optax.apply_updates(state.params, updates), opt_state, state.step + 1, key), loss


# Not donating the state: a budget's timing runs chunks on the initial state, then trains from it.
@functools.partial(jax.jit, static_argnums=0)
def train_chunk(trainer: Trainer, meta, hyper: Hyper, arch_weights, state: TrainState, images, labels,
                batches, mean, std):
    """The steps of ``batches`` ([steps, batch] indices into the training arrays) as one scan;
    returns the state and the per-step training losses."""

    def one(state, idx):
        return trainer.step(meta, hyper, arch_weights, state, images[idx], labels[idx], mean, std)

    return jax.lax.scan(one, state, batches)


def epoch_order(seed: int, epoch: int, num_examples: int, steps: int, batch: int):
    """The [steps, batch] example indices of ``epoch``: a permutation fixed by (seed, epoch), so a
    resumed training visits the examples a whole one would have."""
    order = np.random.default_rng([seed, epoch]).permutation(num_examples)[:steps * batch]
    return order.reshape(steps, batch).astype(np.int32)
