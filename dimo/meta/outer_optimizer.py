"""The outer (meta-)optimizer: Adam on clipped meta-gradients, built once from a run's config.

The inner loop's optimizers live in ``dimo.inner``; this one updates the meta-parameters
(embedding, decoder, learned optimizer, teacher) from the meta-gradient.
"""

from __future__ import annotations

import dataclasses

import ml_collections
import optax

from dimo.meta.name_values import name_values
from dimo.meta.system import META_GROUPS


def meta_optimizer(learning_rate: float = 1e-3, clip_norm: float = 1.0,
                   max_consecutive_bad: int = 1_000_000, group_rates: tuple = (),
                   decay_steps: int = 0) -> optax.GradientTransformation:
    """Adam on meta-gradients clipped to ``clip_norm`` (global norm).

    ``group_rates``, ``((group, rate), ...)``, gives top-level groups of the meta-parameters
    (``decoder``, ``embedding``, ``optimizer``, ``teacher``) Adam rates of their own
    (``optax.multi_transform``); the others use ``learning_rate``. With ``decay_steps`` every
    rate follows a cosine from its value to 0 over that many meta-steps.

    A meta-gradient with a NaN or Inf anywhere is not applied: ``optax.apply_if_finite``
    skips the step and counts it (state ``.notfinite_count``, ``.total_notfinite``).
    Callers that must stop after a run of bad steps check the count themselves, with a
    limit below ``max_consecutive_bad`` (after which optax would apply the update anyway).
    """
    def rate(value):
        return optax.cosine_decay_schedule(value, decay_steps) if decay_steps else value

    adam = optax.adam(rate(learning_rate))
    if group_rates:
        rates = dict(group_rates)
        adam = optax.multi_transform(
            {"_rest": adam, **{group: optax.adam(rate(value)) for group, value in rates.items()}},
            lambda params: {k: (k if k in rates else "_rest") for k in params})
    return optax.apply_if_finite(optax.chain(optax.clip_by_global_norm(clip_norm), adam),
                                 max_consecutive_errors=max_consecutive_bad)


def parse_group_rates(spec: str) -> tuple[tuple[str, float], ...]:
    """``meta.group_learning_rates`` ("optimizer:1e-2,teacher:1e-2") as sorted pairs."""
    rates = name_values(spec, "meta.group_learning_rates", META_GROUPS, "RATE", lambda r: r > 0, "positive")
    return tuple(sorted(rates.items()))


@dataclasses.dataclass(frozen=True)
class OuterSettings:
    """What the outer optimizer depends on, hashable: the key of the compiled meta-step's cache."""

    learning_rate: float = 1e-3
    clip_norm: float = 1.0
    group_rates: tuple = ()
    decay_steps: int = 0

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict) -> OuterSettings:
        return cls(config.meta.learning_rate, config.meta.clip_norm,
                   parse_group_rates(config.meta.group_learning_rates), int(config.meta.lr_decay_steps))

    def build(self) -> optax.GradientTransformation:
        return meta_optimizer(self.learning_rate, self.clip_norm, group_rates=self.group_rates,
                              decay_steps=self.decay_steps)
