import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dimo.space import search_space
from dimo.space.cost import network_cost
from dimo.space.supernet import Supernet

ALL_NONE = search_space.Genotype(("none",) * 6)
ALL_CONV3 = search_space.Genotype(("nor_conv_3x3",) * 6)
# 3x3 conv on edge 1<-0, 1x1 conv on edge 3<-2, the rest skip or none.
SMALL = search_space.Genotype(("nor_conv_3x3", "skip_connect", "none", "avg_pool_3x3", "none", "nor_conv_1x1"))


def _flax_param_count(net, input_shape):
    x = jnp.zeros((2, *input_shape))
    params = jax.eval_shape(net.init, jax.random.key(0), x)["params"]
    return sum(int(np.prod(p.shape)) for p in jax.tree.leaves(params))


@pytest.mark.parametrize("affine, params", [(False, 2005), (True, 2129)])
def test_hand_counted_small_network(affine, params):
    # C=2, N=1, 3 classes, 4x4x1 input, genotype SMALL: two convs per cell (3x3 and 1x1).
    #   stem 3x3, 1->2:                   params 9*1*2 = 18;             MACs 16 px * 18 = 288
    #   stage 0 (C=2, 4x4): 9*2*2 + 2*2 = 40;                            MACs 16 * 40 = 640
    #   reduction 2->4 (2x2): conv_a 9*2*4=72, conv_b 9*4*4=144, 1x1 2*4=8 -> 224; MACs 4*224 = 896
    #   stage 1 (C=4, 2x2): 9*16 + 16 = 160;                             MACs 4 * 160 = 640
    #   reduction 4->8 (1x1): 288 + 576 + 32 = 896;                       MACs 1 * 896 = 896
    #   stage 2 (C=8, 1x1): 9*64 + 64 = 640;                             MACs 1 * 640 = 640
    #   head 8 -> 3: 24 weights + 3 biases = 27;                         MACs 24
    #   total params 18+40+224+160+896+640+27 = 2005; MACs 288+640+896+640+896+640+24 = 4024.
    # affine=True adds 2 per channel per normalisation: stem 4, stage convs 2*4 + 2*8 + 2*16,
    #   reductions 2*8 + 2*16 (conv_a, conv_b), head 16 -> 124, so 2129.
    net = Supernet(num_classes=3, channels=2, cells_per_stage=1, affine=affine, genotype=SMALL)
    cost = network_cost(net, SMALL, (4, 4, 1))
    assert cost.params == params
    assert cost.flops == 4024
    assert _flax_param_count(net, (4, 4, 1)) == params


@pytest.mark.parametrize("genotype", [ALL_NONE, ALL_CONV3, SMALL, search_space.Genotype.from_index(4321)])
def test_count_matches_the_parameters_flax_creates(genotype):
    net = Supernet(num_classes=10, channels=4, cells_per_stage=2, affine=True, genotype=genotype)
    assert network_cost(net, genotype, (16, 16, 3)).params == _flax_param_count(net, (16, 16, 3))


def test_matches_nas_bench_201_published_cifar10_sizes():
    # NAS-Bench-201 (C=16, N=5, 32x32 CIFAR-10, affine BN) reports 1.531546 M parameters
    # for the all-3x3 cell and 1.073466 M for its best CIFAR-10 cell.
    best = search_space.Genotype.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                                   "+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|")
    net = Supernet(num_classes=10, channels=16, cells_per_stage=5, affine=True)
    assert network_cost(net, ALL_CONV3, (32, 32, 3)).params == 1_531_546
    assert network_cost(net, best, (32, 32, 3)).params == 1_073_466


def test_all_none_and_all_conv3x3_bound_every_cell():
    net = Supernet(num_classes=10, channels=16, cells_per_stage=5, affine=True)
    low = network_cost(net, ALL_NONE, (32, 32, 3))
    high = network_cost(net, ALL_CONV3, (32, 32, 3))
    for index in range(search_space.NUM_CELLS):
        cost = network_cost(net, search_space.Genotype.from_index(index), (32, 32, 3))
        assert low.params <= cost.params <= high.params
        assert low.flops <= cost.flops <= high.flops
