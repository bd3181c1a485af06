"""2-D convolution whose derivatives, of every order, are again canonical convolutions.

XLA:CPU has a fast path only for NHWC x HWIO -> NHWC convolutions. The weight
gradient that JAX's built-in transpose rule emits contracts over the batch
dimension through non-canonical dimension numbers, and inside a ``lax.scan`` XLA:CPU
runs it several times slower (jax issue 12868). A meta-gradient differentiates the
inner gradient again, so the slow form appears at every order.

Here the VJP of a convolution is written as two calls of the same function, with
the operands transposed so both stay NHWC x HWIO. Because the backward pass calls
``conv_general`` itself, its derivative is routed through the same rule, so second
and higher derivatives stay canonical too. On GPU/TPU this is the same math as
JAX's own rule (the padding formulas follow ``jax.lax``'s transpose rules).
"""

from __future__ import annotations

import functools

import jax
from jax import lax

Pairs = tuple[tuple[int, int], tuple[int, int]]
_DIMENSION_NUMBERS = ("NHWC", "HWIO", "NHWC")


def _dilate(size: int, dilation: int) -> int:
    return 0 if size == 0 else 1 + dilation * (size - 1)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5))
def conv_general(x, kernel, strides, padding, lhs_dilation=(1, 1), rhs_dilation=(1, 1)):
    """``lax.conv_general_dilated`` for NHWC inputs and HWIO kernels (all static args tuples)."""
    return lax.conv_general_dilated(
        x, kernel, strides, padding, lhs_dilation, rhs_dilation,
        dimension_numbers=_DIMENSION_NUMBERS)


def _conv_fwd(x, kernel, strides, padding, lhs_dilation, rhs_dilation):
    y = conv_general(x, kernel, strides, padding, lhs_dilation, rhs_dilation)
    return y, (x, kernel)


def _conv_bwd(strides, padding, lhs_dilation, rhs_dilation, residuals, g):
    x, kernel = residuals
    in_hw, window, out_hw = x.shape[1:3], kernel.shape[:2], g.shape[1:3]
    lhs_d = [_dilate(s, d) for s, d in zip(in_hw, lhs_dilation)]
    rhs_d = [_dilate(s, d) for s, d in zip(window, rhs_dilation)]
    out_d = [_dilate(s, d) for s, d in zip(out_hw, strides)]

    # d/dx: correlate g with the spatially flipped kernel, in/out channels swapped.
    pad_lo = [r - lo - 1 for r, (lo, _) in zip(rhs_d, padding)]
    pad_hi = [l + r - 1 - o - b for l, r, o, b in zip(lhs_d, rhs_d, out_d, pad_lo)]
    flipped = kernel[::-1, ::-1].transpose(0, 1, 3, 2)
    dx = conv_general(g, flipped, tuple(lhs_dilation), tuple(zip(pad_lo, pad_hi)),
                      tuple(strides), tuple(rhs_dilation))

    # d/dkernel: channels of x play the batch, the batch plays the input features.
    pads_lo = [lo for lo, _ in padding]
    pads_hi = [o - l + r - lo - 1 for o, l, r, lo in zip(out_d, lhs_d, rhs_d, pads_lo)]
    dk = conv_general(x.transpose(3, 1, 2, 0), g.transpose(1, 2, 0, 3), tuple(rhs_dilation),
                      tuple(zip(pads_lo, pads_hi)), tuple(lhs_dilation), tuple(strides))
    return dx, dk.transpose(1, 2, 0, 3)


conv_general.defvjp(_conv_fwd, _conv_bwd)


def conv2d(x, kernel, stride: int = 1, padding: int | None = None):
    """Square-kernel convolution, 'same'-style symmetric zero padding by default."""
    k = kernel.shape[0]
    p = (k - 1) // 2 if padding is None else padding
    return conv_general(x, kernel, (stride, stride), ((p, p), (p, p)))
