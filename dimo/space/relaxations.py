"""Relaxations: functions from architecture logits (and a key) to [6, 5] architecture weights.

DiMO's decoder and the search baselines share them. Each takes ``(logits, temperature,
key)`` and returns weights with rows on the simplex that the supernet mixes ops with.

* ``softmax``: the DARTS mixture, deterministic; every op of every edge contributes.
* ``gumbel``: GDAS's straight-through Gumbel-softmax (Dong & Yang, 2019). The forward pass
  uses one op per edge, sampled from ``softmax(logits)``: the network trained is a discrete
  cell, so what is measured is a cell's accuracy rather than a mixture's. The backward pass
  differentiates ``softmax((logits + g) / temperature)``, a low-variance, biased gradient
  of the sampled cell's loss.
* ``dirichlet``: DrNAS's relaxation (Chen et al., 2021). The logits give each edge
  Dirichlet concentrations ``beta = elu(logits / temperature) + 1`` (all 1, a flat
  Dirichlet, at zero logits); the supernet mixes ops with one reparameterised draw (JAX's
  gamma sampler has implicit-reparameterisation gradients). Training under random mixtures
  keeps an op from leaning on the others' weights, the co-adaptation that lets
  parameter-free ops win a fixed mixture.

``mean`` is the proposal distribution each relaxation draws around: the softmax for the
first two, ``beta / sum(beta)`` for the Dirichlet. Cells are discretized from it.

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


def concentration(logits, temperature: float):
    """DrNAS's Dirichlet concentrations: positive, 1 (flat) at zero logits."""
    return jax.nn.elu(logits / temperature) + 1.0


def dirichlet(logits, temperature: float, key):
    return jax.random.dirichlet(key, concentration(logits, temperature))


def dirichlet_mean(logits, temperature: float):
    beta = concentration(logits, temperature)
    return beta / jnp.sum(beta, axis=-1, keepdims=True)


RELAXATIONS = {"softmax": softmax, "gumbel": gumbel, "dirichlet": dirichlet}
_MEANS = {"softmax": softmax, "gumbel": softmax, "dirichlet": dirichlet_mean}


def relax(name: str, logits, temperature: float, key=None):
    """Architecture weights from ``logits`` under relaxation ``name``."""
    if name not in RELAXATIONS:
        raise ValueError(f"unknown relaxation {name!r}; known: {', '.join(RELAXATIONS)}")
    return RELAXATIONS[name](logits, temperature, key)


def mean(name: str, logits, temperature: float):
    """The distribution over each edge's ops that relaxation ``name`` draws around."""
    if name not in _MEANS:
        raise ValueError(f"unknown relaxation {name!r}; known: {', '.join(RELAXATIONS)}")
    return _MEANS[name](logits, temperature)
