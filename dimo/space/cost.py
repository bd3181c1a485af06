"""Parameter and multiply-accumulate counts of a discrete NAS-Bench-201 network.

Counts are worked out layer by layer from the skeleton in ``supernet.Supernet``.
FLOPs here means multiply-accumulates of the convolutions and the linear head (the
convention of the DARTS and NAS-Bench-201 tables); normalisation, pooling, additions
and activations are not counted. A test checks ``count_params`` against the
parameters flax actually creates.
"""

from __future__ import annotations

import dataclasses

from dimo.space import search_space
from dimo.space.supernet import Supernet

_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}


@dataclasses.dataclass(frozen=True)
class NetworkCost:
    params: int
    flops: int  # multiply-accumulates of convolutions and the linear head


def network_cost(net: Supernet, genotype: search_space.Genotype, input_shape) -> NetworkCost:
    """Cost of ``net`` with every cell fixed to ``genotype``, on inputs of shape (H, W, C_in)."""
    height, width, in_channels = input_shape
    bn = (lambda c: 2 * c) if net.affine else (lambda c: 0)
    params = flops = 0

    def conv(c_in, c_out, k, pixels):
        nonlocal params, flops
        params += k * k * c_in * c_out
        flops += pixels * k * k * c_in * c_out

    c = net.channels
    pixels = height * width
    conv(in_channels, c, 3, pixels)  # stem
    params += bn(c)
    for stage, w in enumerate((c, 2 * c, 4 * c)):
        if stage > 0:
            height, width = height // 2, width // 2
            pixels = height * width
            conv(w // 2, w, 3, pixels)  # conv_a, stride 2
            conv(w, w, 3, pixels)  # conv_b
            conv(w // 2, w, 1, pixels)  # shortcut 1x1 after 2x2 average pooling
            params += 2 * bn(w)
        for op in genotype.ops * net.cells_per_stage:
            if op in _KERNEL:
                conv(w, w, _KERNEL[op], pixels)
                params += bn(w)
    params += bn(4 * c)  # head normalisation
    params += 4 * c * net.num_classes + net.num_classes
    flops += 4 * c * net.num_classes
    return NetworkCost(params=params, flops=flops)
