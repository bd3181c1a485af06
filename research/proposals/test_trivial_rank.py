"""research.proposals.trivial_rank: the trivial cell's standing in a decoded distribution."""

import numpy as np
import pytest

from dimo.space import search_space
from research.proposals import trivial_rank

CONV = search_space.OPS.index("nor_conv_3x3")
ONE = search_space.OPS.index("nor_conv_1x1")


def _weights(first_op_per_edge, p=0.6):
    """p on each edge's first op; where it is not nor_conv_3x3, 0.3 on nor_conv_3x3 (else 0.2 on
    nor_conv_1x1); the rest shared."""
    w = np.zeros((search_space.NUM_EDGES, search_space.NUM_OPS))
    for edge, op in enumerate(first_op_per_edge):
        second, q = (CONV, 0.3) if op != CONV else (ONE, 0.2)
        w[edge] = (1 - p - q) / 3
        w[edge, op], w[edge, second] = p, q
    return w


def test_the_decoded_trivial_cell_is_first_and_a_cheaper_edge_puts_it_behind():
    first = trivial_rank.standing(_weights([CONV] * 6))
    assert first["rank"] == 1 and first["log_prob_below_decoded"] == pytest.approx(0.0)
    assert first["edge_probabilities"] == pytest.approx([0.6] * 6)
    one_edge = trivial_rank.standing(_weights([ONE] + [CONV] * 5))  # edge 0 prefers a 1x1 convolution
    assert one_edge["rank"] == 2 and one_edge["log_prob_below_decoded"] == pytest.approx(np.log(0.6 / 0.3))
    assert one_edge["decoded"].startswith("|nor_conv_1x1~0|") and one_edge["of"] <= 5 ** 6
