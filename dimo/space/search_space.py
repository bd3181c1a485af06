"""The NAS-Bench-201 cell space as plain data.

A cell is a DAG over 4 nodes. Node 0 is the cell input; node ``i`` (1..3) is the
sum of one operation applied to every earlier node ``j < i``; node 3 is the cell
output. That gives 6 edges, each carrying one of 5 operations, so 5**6 = 15,625
cells. Edges are ordered as NAS-Bench-201 orders them (by target node, then by
source node), which is also the order of the genotype string:

    |op~0|+|op~0|op~1|+|op~0|op~1|op~2|
     1<-0    2<-0 2<-1    3<-0 3<-1 3<-2

>>> g = Genotype.from_string(
...     '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|'
...     '+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|')
>>> g.ops[3]
'skip_connect'
>>> Genotype.from_index(g.index) == g
True
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NUM_OPS = len(OPS)
NUM_NODES = 4
# (target, source) pairs in NAS-Bench-201's edge order.
EDGES: tuple[tuple[int, int], ...] = tuple(
    (i, j) for i in range(1, NUM_NODES) for j in range(i))
NUM_EDGES = len(EDGES)
NUM_CELLS = NUM_OPS ** NUM_EDGES


class GenotypeError(ValueError):
    """A genotype string, index or op list that does not describe a NAS-Bench-201 cell."""


@dataclasses.dataclass(frozen=True)
class Genotype:
    """One discrete cell: the op on each of the 6 edges, in ``EDGES`` order.

    Frozen and hashable, so it can be a static attribute of a flax module.
    """

    ops: tuple[str, ...]

    def __post_init__(self):
        ops = tuple(self.ops)
        if len(ops) != NUM_EDGES:
            raise GenotypeError(f"a genotype has {NUM_EDGES} edges, got {len(ops)} ops: {ops}")
        for op in ops:
            if op not in OPS:
                raise GenotypeError(f"unknown op {op!r}; the ops are {', '.join(OPS)}")
        object.__setattr__(self, "ops", ops)

    # -- NAS-Bench-201 string form ---------------------------------------------------------
    @classmethod
    def from_string(cls, text: str) -> "Genotype":
        """Parses ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``; errors name the bad token."""
        text = text.strip()
        nodes = text.split("+")
        if len(nodes) != NUM_NODES - 1:
            raise GenotypeError(
                f"genotype {text!r} has {len(nodes)} node groups separated by '+', "
                f"expected {NUM_NODES - 1} (form |op~0|+|op~0|op~1|+|op~0|op~1|op~2|)")
        ops = []
        for target, node in enumerate(nodes, start=1):
            if len(node) < 2 or not (node.startswith("|") and node.endswith("|")):
                raise GenotypeError(
                    f"node group {node!r} in genotype {text!r} must start and end with '|'")
            tokens = node[1:-1].split("|")
            if len(tokens) != target:
                raise GenotypeError(
                    f"node {target} in {text!r} has {len(tokens)} inputs ({node!r}), "
                    f"expected {target}")
            for source, token in enumerate(tokens):
                op, sep, src = token.partition("~")
                if not sep or op not in OPS:
                    raise GenotypeError(
                        f"bad token {token!r} in genotype {text!r}: expected 'op~{source}' "
                        f"with op one of {', '.join(OPS)}")
                if src != str(source):
                    raise GenotypeError(
                        f"bad token {token!r} in genotype {text!r}: input {source} of node "
                        f"{target} must read '{op}~{source}'")
                ops.append(op)
        return cls(tuple(ops))

    def __str__(self) -> str:
        groups, e = [], 0
        for target in range(1, NUM_NODES):
            tokens = [f"{self.ops[e + s]}~{s}" for s in range(target)]
            groups.append("|" + "|".join(tokens) + "|")
            e += target
        return "+".join(groups)

    # -- index <-> genotype bijection ------------------------------------------------------
    @property
    def op_indices(self) -> tuple[int, ...]:
        return tuple(OPS.index(op) for op in self.ops)

    @property
    def index(self) -> int:
        """Position in 0..15624; edge 0 is the least significant base-5 digit."""
        return sum(o * NUM_OPS ** e for e, o in enumerate(self.op_indices))

    @classmethod
    def from_index(cls, index: int) -> "Genotype":
        if not 0 <= int(index) < NUM_CELLS:
            raise GenotypeError(f"cell index {index} is outside 0..{NUM_CELLS - 1}")
        index = int(index)
        digits = []
        for _ in range(NUM_EDGES):
            index, d = divmod(index, NUM_OPS)
            digits.append(d)
        return cls(tuple(OPS[d] for d in digits))

    @classmethod
    def from_op_indices(cls, indices: Sequence[int]) -> "Genotype":
        return cls(tuple(OPS[int(i)] for i in indices))

    @property
    def connected(self) -> bool:
        """Whether some path of non-``none`` edges leads from the cell input to its output.

        A cell without one outputs zeros whatever its input (NAS-Bench-201 contains such
        cells; they train to chance accuracy).
        """
        reached = {0}
        for (target, source), op in zip(EDGES, self.ops):
            if op != "none" and source in reached:
                reached.add(target)
        return NUM_NODES - 1 in reached

    def pruned(self) -> "Genotype":
        """The cell with ``none`` on every edge that cannot reach the output from the input:
        its source is not reached from the input, or its target does not lead to the output.

        Cells with the same pruned form compute the same function up to branches fed only
        zeros (constant: at most a normalisation's bias), so they train alike.
        """
        reached, leads = {0}, {NUM_NODES - 1}
        for (target, source), op in zip(EDGES, self.ops):  # EDGES go in topological order
            if op != "none" and source in reached:
                reached.add(target)
        for (target, source), op in reversed(list(zip(EDGES, self.ops))):
            if op != "none" and target in leads:
                leads.add(source)
        return Genotype(tuple(op if source in reached and target in leads else "none"
                              for (target, source), op in zip(EDGES, self.ops)))

    def one_hot(self) -> np.ndarray:
        """The [6, 5] architecture weights that select exactly this cell."""
        return np.eye(NUM_OPS, dtype=np.float32)[list(self.op_indices)]


def _all_cells() -> tuple[np.ndarray, np.ndarray]:
    """Op indices of every cell, [NUM_CELLS, 6], and which of them are connected."""
    ops = np.stack(np.unravel_index(np.arange(NUM_CELLS), (NUM_OPS,) * NUM_EDGES)[::-1], axis=1)
    connected = np.array([Genotype.from_op_indices(row).connected for row in ops])
    return ops, connected


_CELLS: tuple[np.ndarray, np.ndarray] | None = None


def _cells() -> tuple[np.ndarray, np.ndarray]:
    global _CELLS
    if _CELLS is None:
        _CELLS = _all_cells()
    return _CELLS


def cell_op_indices() -> tuple[np.ndarray, np.ndarray]:
    """Op indices of every cell of the space, [NUM_CELLS, 6], and which are connected (cached)."""
    return _cells()


def discretize(arch_weights) -> Genotype:
    """The most probable *connected* cell under [6, 5] architecture weights.

    Each row of ``arch_weights`` is read as a distribution over one edge's ops (rows on
    the simplex: pass ``softmax(logits)``, not logits), and the cell with the largest
    product of its edges' probabilities among the cells with a path from input to output
    is returned. Where the per-edge argmax is connected, that is the argmax (as DARTS
    and NAS-Bench-201 derive cells); ``none`` survives only on edges where it is both
    the likeliest op and leaves the cell connected, so a proposal never outputs zeros.
    """
    ops, scores = _connected_log_probabilities(arch_weights)
    return Genotype.from_op_indices(ops[int(np.argmax(scores))])


def _connected_log_probabilities(arch_weights) -> tuple[np.ndarray, np.ndarray]:
    """(op indices of every cell, its log-probability under the weights; -inf if disconnected)."""
    w = np.asarray(arch_weights, np.float64)
    if w.shape != (NUM_EDGES, NUM_OPS):
        raise GenotypeError(f"architecture weights must have shape {(NUM_EDGES, NUM_OPS)}, got {w.shape}")
    ops, connected = _cells()
    # The floor keeps zero weights (one-hot rows) ordered: fewer impossible edges is better.
    log_w = np.log(np.maximum(w, 1e-30))
    return ops, np.where(connected, log_w[np.arange(NUM_EDGES), ops].sum(axis=1), -np.inf)


def most_probable(arch_weights, n: int) -> list[Genotype]:
    """The ``n`` most probable connected cells under [6, 5] architecture weights (rows on
    the simplex), one per pruned form (``Genotype.pruned``), most probable first; the first
    is ``discretize(arch_weights)``."""
    ops, scores = _connected_log_probabilities(arch_weights)
    chosen, forms = [], set()
    for i in np.argsort(-scores, kind="stable"):
        if len(chosen) == n or not np.isfinite(scores[i]):
            break
        genotype = Genotype.from_op_indices(ops[i])
        if genotype.pruned() not in forms:
            forms.add(genotype.pruned())
            chosen.append(genotype)
    return chosen


def uniform_arch_weights() -> np.ndarray:
    """Every op equally weighted on every edge: the usual starting point of a relaxed search."""
    return np.full((NUM_EDGES, NUM_OPS), 1.0 / NUM_OPS, dtype=np.float32)
