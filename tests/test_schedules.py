"""SGD's and Adam's rate schedule in the inner loop (the judges' and baselines' cosine)."""

import jax.numpy as jnp
import numpy as np
import pytest

from dimo.inner.types import Recipe
from dimo.inner.unroll import InnerConfig, InnerLoop
from dimo.space import search_space


def _steps(cfg: InnerConfig, n: int) -> list[float]:
    """The size of each of ``n`` SGD steps (no momentum, no decay) on a constant unit gradient."""
    recipe = Recipe(jnp.asarray(search_space.uniform_arch_weights()), jnp.asarray(2.0), jnp.asarray(0.0))
    optimizer = InnerLoop(None, cfg).optimizer({"optimizer": None}, recipe)
    params, grads = {"w": jnp.zeros([])}, {"w": jnp.ones([])}
    state, sizes = optimizer.init(params), []
    for _ in range(n):
        updates, state = optimizer.update(grads, state, params)
        sizes.append(-float(updates["w"]))
    return sizes


def test_cosine_warms_up_linearly_then_decays_to_zero_at_the_horizon():
    cosine = _steps(InnerConfig(optimizer="sgd", learning_rate=0.1, momentum=0.0, schedule="cosine",
                                warmup_steps=2, decay_steps=6), 7)
    # rate x lr_scale = 0.2 at the peak; 0 at the first step, the peak after the warm-up, 0 at the end.
    np.testing.assert_allclose(cosine[:3], [0.0, 0.1, 0.2], atol=1e-7)
    np.testing.assert_allclose(cosine[3:], [0.2 * (1 + np.cos(np.pi * k / 4)) / 2 for k in (1, 2, 3, 4)], atol=1e-7)
    constant = _steps(InnerConfig(optimizer="sgd", learning_rate=0.1, momentum=0.0), 3)
    np.testing.assert_allclose(constant, [0.2] * 3, atol=1e-7)


def test_a_cosine_needs_its_horizon():
    with pytest.raises(ValueError, match="warmup_steps < decay_steps"):
        InnerConfig(optimizer="sgd", schedule="cosine", warmup_steps=0, decay_steps=0)
    with pytest.raises(ValueError, match="inner.schedule must be one of"):
        InnerConfig(schedule="step")
