"""The relaxed NAS-Bench-201 supernet and, with a genotype fixed, its discrete networks.

Macro skeleton (NAS-Bench-201): 3x3 conv stem -> N cells (C) -> residual reduction ->
N cells (2C) -> residual reduction -> N cells (4C) -> BN-ReLU -> global average pool ->
linear head.

In the relaxed supernet every cell edge is a DARTS mixed op,
``y = sum_o w[e, o] * o(x)``. The architecture weights ``w`` (shape [6, 5], one row
per edge in ``search_space.EDGES`` order) are an *argument* of ``__call__``, shared by
all cells, and never a parameter: gradients flow to whatever produced them (a
decoder, a DARTS optimiser). With ``genotype`` set the same module is the discrete
network: each edge computes only its op and ``none`` edges are skipped. Submodules
are named by edge and op in both modes, so a discrete network's parameters are a
subset of the supernet's and the two can share weights.

>>> import jax, jax.numpy as jnp
>>> net = Supernet(num_classes=10, channels=8, cells_per_stage=1)
>>> x, w = jnp.zeros((2, 16, 16, 3)), jnp.full((6, 5), 0.2)
>>> params = net.init(jax.random.key(0), x, w)['params']
>>> net.apply({'params': params}, x, w).shape
(2, 10)
"""

from __future__ import annotations

from typing import Optional

import flax.linen as nn
import jax.numpy as jnp

from dimo.space import search_space
from dimo.space.operations import BatchNorm, Conv, ResidualReduction, batch_norm, make_op


def _op_module_name(edge: int, op: str) -> str:
    target, source = search_space.EDGES[edge]
    return f"edge{target}{source}_{op}"


class Cell(nn.Module):
    """One 4-node cell; mixed ops from ``arch_weights`` or, with ``genotype``, fixed ops."""

    channels: int
    affine: bool = False
    genotype: Optional[search_space.Genotype] = None
    normalize_free_ops: bool = False

    @nn.compact
    def __call__(self, x, arch_weights=None):
        nodes, zero = [x], [False]  # zero[i]: node i is exactly 0 (every edge into it is none)
        for target in range(1, search_space.NUM_NODES):
            terms = []
            for source in range(target):
                edge = search_space.EDGES.index((target, source))
                terms.extend(self._edge(edge, nodes[source], arch_weights, zero[source]))
            nodes.append(sum(terms) if terms else jnp.zeros_like(x))
            zero.append(not terms)
        return nodes[-1]

    def _edge(self, edge, h, arch_weights, h_is_zero=False):
        """The terms one edge adds to its target node."""
        if self.genotype is not None:
            op = self.genotype.ops[edge]
            if op == "none" or (h_is_zero and op in ("skip_connect", "avg_pool_3x3")):
                # A parameter-free op of a zero node adds exactly 0. Not building it keeps XLA from
                # constant-folding a pooling of the batch-sized zero array at compile time (over a
                # minute a program at 500 images). Parameters are unchanged: these ops have none.
                return []
            return [make_op(op, self.channels, self.affine, _op_module_name(edge, op))(h)]
        terms = []
        for o, op in enumerate(search_space.OPS):
            if op == "none":  # contributes w * 0: nothing to compute and a zero gradient
                continue
            y = make_op(op, self.channels, self.affine, _op_module_name(edge, op))(h)
            if self.normalize_free_ops and op in ("skip_connect", "avg_pool_3x3"):
                y = batch_norm(y)  # on the scale of the convolutions' normalised outputs
            terms.append(arch_weights[edge, o].astype(y.dtype) * y)
        return terms


class Supernet(nn.Module):
    """NAS-Bench-201 network over relaxed (or, with ``genotype``, fixed) cells.

    Attributes:
      num_classes: size of the linear head.
      channels: C, the width of the first stage (then 2C, 4C).
      cells_per_stage: N, cells in each of the three stages.
      affine: learned scale/shift in the normalisations. DARTS searches with
        ``affine=False`` so that op outputs cannot rescale away the architecture weights;
        NAS-Bench-201 trains discrete networks with ``affine=True``.
      genotype: when set, the discrete network of that cell.
      normalize_free_ops: relaxed mode only: a non-affine batch normalisation after
        ``skip_connect`` and ``avg_pool_3x3`` (DARTS's search cell does so after pooling),
        so that every op enters the mixture at unit scale and an op's mixing weight is not
        confounded with the scale of its output.
    """

    num_classes: int
    channels: int = 16
    cells_per_stage: int = 5
    affine: bool = False
    genotype: Optional[search_space.Genotype] = None
    normalize_free_ops: bool = False

    @nn.compact
    def __call__(self, x, arch_weights=None):
        if self.genotype is None:
            if arch_weights is None:
                raise ValueError("the relaxed supernet needs arch_weights of shape [6, 5]")
            if arch_weights.shape != (search_space.NUM_EDGES, search_space.NUM_OPS):
                raise ValueError(f"arch_weights must have shape {(search_space.NUM_EDGES, search_space.NUM_OPS)}, "
                                 f"got {arch_weights.shape}")
        if x.shape[1] % 4 or x.shape[2] % 4:
            raise ValueError(f"input height and width must be multiples of 4 (two stride-2 "
                             f"reductions), got {x.shape[1]}x{x.shape[2]}; resize the data")
        c = self.channels
        x = Conv(c, 3, name="stem_conv")(x)
        x = BatchNorm(self.affine, name="stem_bn")(x)
        for stage, width in enumerate((c, 2 * c, 4 * c)):
            if stage > 0:
                x = ResidualReduction(width, self.affine, name=f"reduction{stage}")(x)
            for i in range(self.cells_per_stage):
                cell = Cell(width, self.affine, self.genotype, self.normalize_free_ops,
                            name=f"stage{stage}_cell{i}")
                x = cell(x, arch_weights)
        x = nn.relu(BatchNorm(self.affine, name="head_bn")(x))
        x = jnp.mean(x, axis=(1, 2))
        return nn.Dense(self.num_classes, name="classifier")(x)
