"""DARTS (Liu et al., 2019): the softmax mixture of every op on every edge, first or
second order (``dimo.search.gradient_search``); the cell is the most probable connected one."""

from __future__ import annotations

import jax

from dimo.search import gradient_search


def rule(order: int = 1) -> gradient_search.ArchRule:
    softmax = lambda alpha: jax.nn.softmax(alpha, axis=-1)  # noqa: E731
    return gradient_search.ArchRule(f"darts-{'first' if order == 1 else 'second'}-order",
                                    mixture=lambda alpha, key, progress: softmax(alpha), selection=softmax)


def search(dataset, setup, order: int = 1) -> dict:
    return gradient_search.search(dataset, setup, rule(order), order=order)[0]
