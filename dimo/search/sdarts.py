"""SDARTS-RS (Chen & Hsieh, 2020): DARTS whose weight steps see randomly smoothed
architecture weights.

The weights train under the softmax mixture plus uniform noise in ``[-EPSILON, EPSILON]``
on every entry, fresh each step, so they are trained for a neighbourhood of the mixture and
the validation loss is flat around it; the architecture step is DARTS's. This smoothing is
the paper's remedy for the sharp minima that make DARTS's mixture a poor predictor of its
discretized cell.
"""

from __future__ import annotations

import jax

from dimo.search import gradient_search

EPSILON = 0.03


def rule() -> gradient_search.ArchRule:
    softmax = lambda alpha: jax.nn.softmax(alpha, axis=-1)  # noqa: E731

    def smoothed(alpha, key, progress):
        return softmax(alpha) + jax.random.uniform(key, alpha.shape, alpha.dtype, -EPSILON, EPSILON)

    return gradient_search.ArchRule("sdarts-rs", mixture=lambda alpha, key, progress: softmax(alpha),
                                    selection=softmax, weight_mixture=smoothed)


def search(dataset, setup) -> dict:
    return gradient_search.search(dataset, setup, rule())[0]
