"""GDAS (Dong & Yang, 2019): one op per edge, sampled by Gumbel-softmax.

The forward pass runs the sampled discrete cell (only its ops' weights train at a step);
the backward pass differentiates ``softmax((alpha + g) / tau)`` through the straight-through
estimator (``dimo.space.relaxations.gumbel``), so every logit of an edge gets a gradient. The
temperature falls linearly from ``TAU_MAX`` to ``TAU_MIN`` over the architecture's steps,
GDAS's schedule.
"""

from __future__ import annotations

import jax

from dimo.search import gradient_search
from dimo.space import relaxations

TAU_MAX, TAU_MIN = 10.0, 0.1


def temperature(progress):
    return TAU_MAX - (TAU_MAX - TAU_MIN) * progress


def rule() -> gradient_search.ArchRule:
    return gradient_search.ArchRule(
        "gdas", mixture=lambda alpha, key, progress: relaxations.gumbel(alpha, temperature(progress), key),
        selection=lambda alpha: jax.nn.softmax(alpha, axis=-1))


def search(dataset, setup) -> dict:
    return gradient_search.search(dataset, setup, rule())[0]
