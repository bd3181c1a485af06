"""Relaxations: functions from architecture logits (and a key) to [6, 5] architecture weights.

DiMO's decoder and the search baselines share them. Each takes ``(logits, temperature,
key)`` and returns weights with rows on the simplex that the supernet mixes ops with.

* ``softmax``: the DARTS mixture, deterministic; every op of every edge contributes.
* ``gumbel``: GDAS's straight-through Gumbel-softmax (Dong & Yang, 2019). The forward pass
  uses one op per edge, sampled from ``softmax(logits)``: the network trained is a discrete
  cell, so what is measured is a cell's accuracy rather than a mixture's. The backward pass
  differentiates ``softmax((logits + g) / temperature)``, a low-variance, biased gradient
  of the sampled cell's loss.

>>> import jax, jax.numpy as jnp
>>> w = relax("gumbel", jnp.zeros((6, 5)), 1.0, jax.random.key(0))
>>> bool(jnp.all(jnp.sum(w == 1.0, axis=-1) == 1))
True
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def softmax(logits, temperature: float, key=None):
    del key  # deterministic
    return jax.nn.softmax(logits / temperature, axis=-1)


def gumbel(logits, temperature: float, key):
    noisy = logits + jax.random.gumbel(key, logits.shape, logits.dtype)
    soft = jax.nn.softmax(noisy / temperature, axis=-1)
    hard = jax.nn.one_hot(jnp.argmax(noisy, axis=-1), logits.shape[-1], dtype=soft.dtype)
    return soft + jax.lax.stop_gradient(hard - soft)  # forward: hard; gradient: soft's


RELAXATIONS = {"softmax": softmax, "gumbel": gumbel}


def relax(name: str, logits, temperature: float, key=None):
    """Architecture weights from ``logits`` under relaxation ``name``."""
    if name not in RELAXATIONS:
        raise ValueError(f"unknown relaxation {name!r}; known: {', '.join(RELAXATIONS)}")
    return RELAXATIONS[name](logits, temperature, key)
