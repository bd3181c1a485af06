"""The decoded rate's meta-gradient over a whole life, from a shadow network at a higher rate.

Truncated backpropagation (``dimo.inner.truncation``) scores a K-step segment from a state it
treats as a constant, so the gradient of the rate sees only what the rate does within those K
steps, not what it did to the network the segment starts from. Over long lives most segments
start from old networks, and a short stretch of an old network's training loses least at a
small rate (the short-horizon bias, Wu et al. 2018): after 1,000-step lives the decoded
``lr_scale`` fell to 0.34-0.45, against 1.9-2.8 after 200-step lives (research/lopt/README.md,
``ten_life1000``).

For one scalar the whole life's derivative is cheap to carry forward (real-time hyperparameter
optimisation, Franceschi et al. 2017). Forward-mode autodiff cannot pass the supernet's
convolution (a ``custom_vjp``, ``dimo.space.conv``), so a finite difference carries it: each slot
has a *shadow*, a copy of its network trained over the same minibatches at the rate
``exp(SHADOW_LOG_STEP)`` times higher, from the same initialisation at the slot's restarts. After
a segment, ``(L_shadow - L) / SHADOW_LOG_STEP`` is the derivative of the segment's validation loss
with respect to ``r = log lr_scale`` held over the life so far (to first order in the step), and
the rate's meta-gradient is that times ``dr/dtheta``, reaching the decoder and the embedding as the
truncated one did. Every other meta-gradient stays truncated. Like real-time recurrent learning it
treats the rate as constant over the life while meta-training moves it a little each segment; a
finite step, unlike a tangent, stays finite where a long unroll turns chaotic (the loss
difference is what a slightly faster life actually did).

The shadow costs one more forward unroll a segment (no backward pass). Only the decoded
``lr_scale`` is treated so; the learned optimizer's own ``log_lr`` keeps its truncated gradient (in
the runs above it ended within 3 % of where it started). A shadow that goes non-finite restarts as the slot's network,
and for that segment the rate keeps its truncated gradient (counted: ``shadow_failed`` in the metrics).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from dimo.inner.types import Recipe

RATE_GRADIENTS = ("truncated", "shadow")
# The shadow's rate is exp(0.05) = 1.05 times the slot's: small enough that the one-sided
# difference's bias (half the step times the curvature in r) is negligible, large enough that
# the two validation losses on one batch differ well above float32 rounding.
SHADOW_LOG_STEP = 0.05


def _is_float(leaf) -> bool:
    return jnp.issubdtype(leaf.dtype, jnp.inexact)


def float_leaves(state) -> list:
    """The state's floating-point leaves, in ``jax.tree`` order: what differs between a network and
    its shadow (PRNG keys and step counters are shared, so are the minibatches)."""
    return [x for x in jax.tree.leaves(state) if _is_float(x)]


def with_float_leaves(state, values):
    """``state`` with its floating-point leaves replaced by ``values``."""
    leaves, treedef = jax.tree.flatten(state)
    it = iter(values)
    return jax.tree.unflatten(treedef, [next(it) if _is_float(x) else x for x in leaves])


def shadow_segment(loop, meta, recipe: Recipe, task, start, shadow, num_steps: int, key):
    """``(L_shadow, shadow after the segment)``: the shadow (``start``'s float leaves trained at the
    higher rate) trained ``num_steps`` more steps over ``start``'s minibatches, and its validation
    loss on the batch ``key`` draws. Nothing here is differentiated."""
    meta, recipe, start, shadow = jax.lax.stop_gradient((meta, recipe, start, shadow))
    faster = recipe._replace(lr_scale=recipe.lr_scale * jnp.exp(SHADOW_LOG_STEP).astype(recipe.lr_scale.dtype))
    state, _ = loop.unroll(meta, faster, task, with_float_leaves(start, shadow), num_steps)
    loss, _ = loop.evaluate(state.params, faster, task, key)
    return loss, float_leaves(state)


def shadow_finite(shadow_loss, shadow):
    """Whether the shadow's segment stayed finite: its validation loss and every float leaf."""
    return jnp.isfinite(shadow_loss) & jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in shadow]))


def rate_derivative(shadow_loss, loss, shadow, state):
    """``(dL/dr, shadow)``: the one-sided difference, and the shadow to carry; where either went
    non-finite, 0 and the slot's own network (the shadow restarts from it)."""
    d = (shadow_loss - loss) / SHADOW_LOG_STEP
    finite = jnp.isfinite(d) & shadow_finite(shadow_loss, shadow)
    own = float_leaves(state)
    return jnp.where(finite, d, 0.0), [jnp.where(finite, a, b) for a, b in zip(shadow, own)]


def detach_rate(recipe: Recipe, where=True) -> Recipe:
    """The recipe whose rate the truncated meta-gradient does not reach, where ``where``. Pass the
    shadow's finiteness: a segment whose shadow diverged (a higher rate is where a network
    diverges first) gives no life-long derivative, and the rate keeps the truncated one instead of
    losing its push for that segment."""
    rate = recipe.lr_scale
    return recipe._replace(lr_scale=jnp.where(where, jax.lax.stop_gradient(rate), rate))


def rate_surrogate(recipe: Recipe, d_loss_d_rate):
    """Zero in value; its gradient is ``dL/dr * dr/dtheta``, the whole life's rate gradient."""
    log_rate = jnp.log(recipe.lr_scale)
    return jax.lax.stop_gradient(d_loss_d_rate) * (log_rate - jax.lax.stop_gradient(log_rate))
