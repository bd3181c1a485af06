"""DrNAS (Chen et al., 2021): architecture search as Dirichlet distribution learning.

Each edge's logits give Dirichlet concentrations ``beta = elu(alpha) + 1``; every step the
supernet runs one reparameterised draw (``dimo.space.relaxations.dirichlet``; JAX's gamma sampler
has implicit-reparameterisation gradients), and the architecture's loss carries DrNAS's
anchor regulariser, ``ANCHOR_SCALE * KL(Dir(beta) || Dir(1))``, which keeps the
concentrations from growing without bound (a Dirichlet with huge concentrations is a fixed
mixture again). The cell is discretized from the Dirichlet's mean.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.special import digamma, gammaln

from dimo.search import gradient_search
from dimo.space import relaxations

ANCHOR_SCALE = 1e-3


def dirichlet_kl(beta, anchor):
    """KL(Dir(beta) || Dir(anchor)) of each row (closed form; the last axis is the simplex)."""
    b0, a0 = jnp.sum(beta, -1), jnp.sum(anchor, -1)
    return (gammaln(b0) - jnp.sum(gammaln(beta), -1) - gammaln(a0) + jnp.sum(gammaln(anchor), -1)
            + jnp.sum((beta - anchor) * (digamma(beta) - digamma(b0)[..., None]), -1))


def anchor_regularizer(alpha):
    beta = relaxations.concentration(alpha, 1.0)
    return ANCHOR_SCALE * jnp.sum(dirichlet_kl(beta, jnp.ones_like(beta)))


def rule() -> gradient_search.ArchRule:
    return gradient_search.ArchRule(
        "drnas", mixture=lambda alpha, key, progress: relaxations.dirichlet(alpha, 1.0, key),
        selection=lambda alpha: relaxations.dirichlet_mean(alpha, 1.0), regularizer=anchor_regularizer)


def search(dataset, setup) -> dict:
    return gradient_search.search(dataset, setup, rule())[0]
