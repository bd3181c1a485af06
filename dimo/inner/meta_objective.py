"""What a truncation's validation batch scores: the meta-loss every meta-parameter descends.

``"ce"``: the validation cross-entropy. It falls when the network ranks the right class
higher *and* when it merely rescales its logits toward calibration, and an inner loop can
learn the second cheaply: on cifar10 the learned optimizer reached a lower validation loss
than Adam at the same test accuracy (docs/results.md, issue #15).

``"calibrated_ce"``: the cross-entropy at the temperature that minimises it on the batch,
``min_b CE(b * logits)`` (temperature scaling, Guo et al. 2017, folded into the loss). A
rescaling of the logits does not change it, so only what changes the ranking of the
classes pays. ``b`` is found by Newton's method on the convex one-dimensional
``f(b) = mean(logsumexp(b z) - b z_y)`` and enters as a constant: at the minimum
``df/db = 0``, so the gradient with ``b`` held fixed is the gradient of the minimum
(envelope theorem), at no extra backward cost.

``"ce_and_calibrated_ce"``: their mean. The calibrated score leaves the logits' scale to
whatever the inner loop makes of it, and a teacher loss with a temperature of its own can
then train networks whose plain validation loss is worse than Adam's at better accuracy
(docs/results.md); the plain half keeps the scale anchored.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dimo.inner.teacher_loss import cross_entropy  # the inner loop's own, re-exported

META_LOSSES = ("ce", "calibrated_ce", "ce_and_calibrated_ce")
NEWTON_STEPS = 8
# Bounds on the inverse temperature: a batch the network separates perfectly has its
# minimum at b -> infinity; the bound keeps the loss (and its gradient) finite there.
MIN_INVERSE_TEMPERATURE, MAX_INVERSE_TEMPERATURE = 0.05, 20.0


def best_inverse_temperature(logits, labels):
    """``argmin_b CE(b * logits)`` within the bounds (no gradient flows through it)."""
    dtype = jnp.promote_types(logits.dtype, jnp.float32)  # at least float32 for Newton's steps
    z = jax.lax.stop_gradient(logits.astype(dtype))
    z_y = jnp.take_along_axis(z, labels[:, None], axis=1)[:, 0]

    def newton(b, _):
        p = jax.nn.softmax(b * z)
        mean_z = jnp.sum(p * z, -1)
        slope = jnp.mean(mean_z - z_y)  # f'(b)
        curvature = jnp.mean(jnp.sum(p * jnp.square(z), -1) - jnp.square(mean_z))  # f''(b) >= 0
        b = b - slope / (curvature + 1e-6)
        return jnp.clip(b, MIN_INVERSE_TEMPERATURE, MAX_INVERSE_TEMPERATURE), None

    b, _ = jax.lax.scan(newton, jnp.ones([], dtype), None, length=NEWTON_STEPS)
    return b


def calibrated_cross_entropy(logits, labels):
    b = best_inverse_temperature(logits, labels)
    return cross_entropy(b.astype(logits.dtype) * logits, labels)


def ce_and_calibrated_cross_entropy(logits, labels):
    return 0.5 * (cross_entropy(logits, labels) + calibrated_cross_entropy(logits, labels))


def meta_loss_fn(name: str):
    """The function ``(logits, labels) -> loss`` that ``inner.meta_loss`` names."""
    if name not in META_LOSSES:
        raise ValueError(f"inner.meta_loss must be one of {', '.join(META_LOSSES)}, got {name!r}")
    return {"ce": cross_entropy, "calibrated_ce": calibrated_cross_entropy,
            "ce_and_calibrated_ce": ce_and_calibrated_cross_entropy}[name]
