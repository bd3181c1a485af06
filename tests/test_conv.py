import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from dimo.space.conv import conv_general


def _reference(x, k, strides, padding, lhs_dilation=(1, 1), rhs_dilation=(1, 1)):
    return lax.conv_general_dilated(x, k, strides, padding, lhs_dilation, rhs_dilation,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))


@pytest.mark.parametrize("size, kernel, stride, pad", [
    (8, 3, 1, 1), (8, 3, 2, 1), (7, 3, 2, 1), (8, 1, 1, 0), (8, 1, 2, 0), (9, 3, 1, 0)])
def test_first_and_second_derivatives_match_lax(size, kernel, stride, pad):
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(2, size, size, 3)), jnp.float32)
    k = jnp.asarray(rng.normal(size=(kernel, kernel, 3, 4)), jnp.float32)
    strides, padding = (stride, stride), ((pad, pad), (pad, pad))

    def loss(x, k, conv):
        return jnp.sum(jnp.sin(conv(x, k, strides, padding)))

    def grad_norm(x, k, conv):  # a function of the gradient, as a meta-loss is
        gx, gk = jax.grad(loss, (0, 1))(x, k, conv)
        return jnp.sum(gk ** 2) + jnp.sum(gx ** 3)

    for f in (loss, grad_norm):
        np.testing.assert_allclose(f(x, k, conv_general), f(x, k, _reference), rtol=1e-5)
        ours = jax.grad(f, (0, 1))(x, k, conv_general)
        theirs = jax.grad(f, (0, 1))(x, k, _reference)
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * float(jnp.max(jnp.abs(b))))


def test_backward_convolutions_stay_canonical():
    x, k = jnp.ones((2, 8, 8, 3)), jnp.ones((3, 3, 3, 4))

    def second_order(x, k):
        g = jax.grad(lambda k: jnp.sum(conv_general(x, k, (2, 2), ((1, 1), (1, 1))) ** 2))(k)
        return jnp.sum(g ** 2)

    jaxpr = str(jax.make_jaxpr(jax.grad(second_order, (0, 1)))(x, k))
    specs = [s.split(")")[0] for s in jaxpr.split("lhs_spec=")[1:]]
    assert specs and all(s == "(0, 3, 1, 2" for s in specs), specs
