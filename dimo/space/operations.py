"""The five NAS-Bench-201 operations and the layers they are made of, as flax modules.

Normalisation: in training, ``BatchNorm`` uses the statistics of the batch it is given
and keeps no running averages. Inside a differentiated K-step unroll that makes every
forward pass a pure function of (params, batch): there is no mutable state to thread
through ``lax.scan``, no stale averages from before the latest inner update, and the
meta-gradient sees exactly the computation that ran.

Evaluation must not do the same: normalising a test batch by its own statistics makes
one example's prediction depend on the others in its batch (transductive). Instead,
after training, ``dimo.evaluation.evaluate.calibrate`` estimates each layer's statistics on
training batches (the ``batch_stats`` collection, recorded when it is mutable), and a
forward pass given that collection normalises with those fixed statistics, as
NAS-Bench-201 and DARTS evaluate with their running averages.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from dimo.space.conv import conv2d

BN_EPSILON = 1e-5
# He-normal fan-in initialisation, suited to ReLU networks.
KERNEL_INIT = nn.initializers.variance_scaling(2.0, "fan_in", "truncated_normal")


def batch_norm(x, scale=None, bias=None):
    """Normalises over batch and space with the batch's own statistics."""
    mean = jnp.mean(x, axis=(0, 1, 2), keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=(0, 1, 2), keepdims=True)
    y = (x - mean) * jax.lax.rsqrt(var + BN_EPSILON)  # eps > 0: no NaN gradient at var == 0
    if scale is not None:
        y = y * scale + bias
    return y


def batch_moments(x):
    """Per-channel mean and (biased) variance over batch and space."""
    mean = jnp.mean(x, axis=(0, 1, 2))
    return mean, jnp.mean(jnp.square(x - mean), axis=(0, 1, 2))


class BatchNorm(nn.Module):
    """Normalisation, with a learned scale and shift when ``affine``.

    Three modes, chosen by the ``batch_stats`` collection of the ``apply`` call:
    absent, the batch's own statistics (training); mutable, the same, and the batch's
    moments are recorded as ``batch_stats/{mean,var}`` (calibration); present and
    immutable, the recorded statistics (evaluation, per-example).
    """

    affine: bool = True

    @nn.compact
    def __call__(self, x):
        scale = bias = None
        if self.affine:
            c = x.shape[-1]
            scale = self.param("scale", nn.initializers.ones, (c,))
            bias = self.param("bias", nn.initializers.zeros, (c,))
        if self.is_mutable_collection("batch_stats"):
            mean, var = batch_moments(x)
            self.put_variable("batch_stats", "mean", mean)
            self.put_variable("batch_stats", "var", var)
        elif self.has_variable("batch_stats", "mean"):
            mean = self.get_variable("batch_stats", "mean").astype(x.dtype)
            var = self.get_variable("batch_stats", "var").astype(x.dtype)
            y = (x - mean) * jax.lax.rsqrt(var + BN_EPSILON)
            return y if scale is None else y * scale + bias
        return batch_norm(x, scale, bias)


class Conv(nn.Module):
    """Bias-free square convolution on the canonical-layout ``conv2d``."""

    features: int
    kernel_size: int
    stride: int = 1

    @nn.compact
    def __call__(self, x):
        shape = (self.kernel_size, self.kernel_size, x.shape[-1], self.features)
        kernel = self.param("kernel", KERNEL_INIT, shape)
        return conv2d(x, kernel.astype(x.dtype), self.stride)


class ReLUConvBN(nn.Module):
    """NAS-Bench-201's ``nor_conv`` block: ReLU -> Conv (no bias) -> BN."""

    features: int
    kernel_size: int
    stride: int = 1
    affine: bool = True

    @nn.compact
    def __call__(self, x):
        x = Conv(self.features, self.kernel_size, self.stride)(nn.relu(x))
        return BatchNorm(self.affine)(x)


def avg_pool_3x3(x):
    """3x3 average pooling, stride 1, padding not counted (as in NAS-Bench-201: border pixels
    average their real neighbours).

    Equal to ``nn.avg_pool(..., count_include_pad=False)``, but the divisor map is pooled
    from a [1, H, W, 1] array of ones instead of a full-size one, which XLA constant-folds
    for seconds per compile at evaluation batch sizes (500 images: over 8 s a program).
    """
    window, strides, pad = (1, 3, 3, 1), (1, 1, 1, 1), ((0, 0), (1, 1), (1, 1), (0, 0))
    zero = np.zeros((), x.dtype)  # concrete: lax lowers this to a differentiable window sum
    total = jax.lax.reduce_window(x, zero, jax.lax.add, window, strides, pad)
    ones = jnp.ones((1,) + x.shape[1:3] + (1,), x.dtype)
    count = jax.lax.reduce_window(ones, zero, jax.lax.add, window, strides, pad)
    return total / count


def make_op(name: str, channels: int, affine: bool, module_name: str):
    """The op ``name`` as a callable x -> y with ``channels`` in and out (stride 1, cells only).

    ``none`` is never built: a mixed op drops it (its output is exactly zero), and a
    discrete cell skips the edge.
    """
    if name == "skip_connect":
        return lambda x: x
    if name == "avg_pool_3x3":
        return avg_pool_3x3
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, 1, affine=affine, name=module_name)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, 3, affine=affine, name=module_name)
    raise ValueError(f"make_op builds skip_connect, avg_pool_3x3, nor_conv_1x1, nor_conv_3x3; got {name!r}")


class ResidualReduction(nn.Module):
    """NAS-Bench-201's reduction block between stages: a stride-2 ResNet basic block.

    Main path ReLU-Conv3x3(stride 2)-BN, ReLU-Conv3x3-BN; shortcut AvgPool(2) -> Conv1x1.
    """

    features: int
    affine: bool = True

    @nn.compact
    def __call__(self, x):
        y = ReLUConvBN(self.features, 3, stride=2, affine=self.affine, name="conv_a")(x)
        y = ReLUConvBN(self.features, 3, affine=self.affine, name="conv_b")(y)
        shortcut = nn.avg_pool(x, (2, 2), strides=(2, 2))
        shortcut = Conv(self.features, 1, name="downsample")(shortcut)
        return shortcut + y
