"""Decoder: dataset code -> soft architecture + training hyperparameters, all differentiable.

Outputs, each bounded by construction:

* architecture weights, [6, 5], rows on the simplex: the proposal distribution over each
  edge's ops (``relaxations.mean``: ``softmax(logits / temperature)``, or the Dirichlet's
  mean). During meta-training the supernet is run
  with ``sample_arch_weights``, the config's relaxation (``dimo.space.relaxations``) of the same
  logits: the mixture itself (``softmax``) or a sampled cell (``gumbel``);
* ``lr_scale = exp(log(max_lr_scale) * tanh(a))`` in [1/max, max], multiplying the inner
  optimizer's learning rate;
* ``weight_decay = max_weight_decay * sigmoid(b)`` in (0, max).

The output layer starts at zero: every dataset is first proposed the uniform mixture,
``lr_scale`` 1 and half the maximum weight decay; meta-training moves them apart.

>>> import jax, jax.numpy as jnp
>>> cfg = DecoderConfig()
>>> params = init_decoder(jax.random.key(0), cfg, code_size=32)
>>> recipe = decode(params, cfg, jnp.ones(32))
>>> recipe.arch_weights.shape, float(recipe.lr_scale)
((6, 5), 1.0)
"""

from __future__ import annotations

import dataclasses
import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from dimo.inner.types import Recipe
from dimo.space import relaxations, search_space


@dataclasses.dataclass(frozen=True)
class DecoderConfig:
    hidden_size: int = 64
    temperature: float = 1.0
    max_lr_scale: float = 3.0
    max_weight_decay: float = 1e-3
    relaxation: str = "softmax"  # what meta-training runs the supernet with (dimo.space.relaxations)


class Decoder(nn.Module):
    hidden_size: int = 64

    @nn.compact
    def __call__(self, code):
        h = nn.relu(nn.Dense(self.hidden_size, name="hidden")(code))
        out = nn.Dense(search_space.NUM_EDGES * search_space.NUM_OPS + 2, kernel_init=nn.initializers.zeros, name="out")(h)
        return out[:-2].reshape(search_space.NUM_EDGES, search_space.NUM_OPS), out[-2], out[-1]


def init_decoder(key, cfg: DecoderConfig, code_size: int):
    return Decoder(cfg.hidden_size).init(key, jnp.zeros(code_size))["params"]


def decode_logits(params, cfg: DecoderConfig, code):
    """(architecture logits [6, 5], raw lr output, raw weight-decay output)."""
    return Decoder(cfg.hidden_size).apply({"params": params}, code)


def sample_arch_weights(params, cfg: DecoderConfig, code, key):
    """The architecture weights meta-training trains the supernet with (one draw)."""
    logits, _, _ = decode_logits(params, cfg, code)
    return relaxations.relax(cfg.relaxation, logits, cfg.temperature, key)


def decode(params, cfg: DecoderConfig, code) -> Recipe:
    logits, raw_lr, raw_wd = decode_logits(params, cfg, code)
    return Recipe(
        arch_weights=relaxations.mean(cfg.relaxation, logits, cfg.temperature),
        lr_scale=jnp.exp(math.log(cfg.max_lr_scale) * jnp.tanh(raw_lr)),
        weight_decay=cfg.max_weight_decay * jax.nn.sigmoid(raw_wd))
