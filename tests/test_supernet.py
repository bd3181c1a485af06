import jax
import jax.numpy as jnp
import numpy as np
import pytest

from dimo.space import search_space
from dimo.space.supernet import Supernet

BEST = search_space.Genotype.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                               "+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|")
# Node 1 is exactly zero (its one edge is none) and feeds two poolings (a cell Hyperband found).
ZERO_NODE_POOLED = search_space.Genotype.from_string("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|"
                                                     "+|skip_connect~0|avg_pool_3x3~1|skip_connect~2|")


def _init(net, x, w=None):
    args = (x,) if w is None else (x, w)
    return jax.jit(net.init)(jax.random.key(0), *args)["params"]


@pytest.mark.parametrize("size", [16, 32])
@pytest.mark.parametrize("cells", [1, 5])
def test_output_shape(size, cells):
    net = Supernet(num_classes=10, channels=4, cells_per_stage=cells)
    x = jnp.ones((8, size, size, 3))
    w = jnp.asarray(search_space.uniform_arch_weights())
    params = jax.eval_shape(lambda: _init(net, x, w))
    out = jax.eval_shape(lambda p: net.apply({"params": p}, x, w), params)
    assert out.shape == (8, 10)


def test_output_shape_concrete_and_finite():
    net = Supernet(num_classes=7, channels=4, cells_per_stage=1)
    x = jax.random.normal(jax.random.key(1), (8, 16, 16, 3))
    w = jnp.asarray(search_space.uniform_arch_weights())
    logits = jax.jit(lambda x, w: net.apply({"params": _init(net, x, w)}, x, w))(x, w)
    assert logits.shape == (8, 7) and bool(jnp.all(jnp.isfinite(logits)))


@pytest.fixture(scope="module")
def two_cell_supernets():
    """Per ``affine``: a supernet with 2 cells a stage, its parameters and its jitted forward.
    The architecture weights are an argument, so every genotype below runs the one program."""
    x = jax.random.normal(jax.random.key(1), (8, 16, 16, 3))
    nets = {}
    for affine in (False, True):
        net = Supernet(num_classes=10, channels=4, cells_per_stage=2, affine=affine)
        nets[affine] = _init(net, x, jnp.asarray(search_space.uniform_arch_weights())), jax.jit(net.apply)
    return x, nets


@pytest.mark.parametrize("genotype", [
    BEST, ZERO_NODE_POOLED, search_space.Genotype(("none",) * 6), search_space.Genotype(("skip_connect", "none", "avg_pool_3x3",
                                                   "none", "nor_conv_1x1", "none"))])
@pytest.mark.parametrize("affine", [False, True])
def test_one_hot_supernet_equals_discrete_network(two_cell_supernets, genotype, affine):
    x, nets = two_cell_supernets
    params, supernet_apply = nets[affine]
    discrete = Supernet(num_classes=10, channels=4, cells_per_stage=2, affine=affine,
                        genotype=genotype)
    own = jax.eval_shape(discrete.init, jax.random.key(0), x)["params"]  # the tree, no compile
    # The discrete network's parameters are exactly a subset of the supernet's.
    own_paths = {jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(own)}
    super_paths = {jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_leaves_with_path(params)}
    assert own_paths <= super_paths
    relaxed = supernet_apply({"params": params}, x, jnp.asarray(genotype.one_hot()))
    fixed = jax.jit(discrete.apply)({"params": params}, x)
    np.testing.assert_allclose(relaxed, fixed, rtol=1e-5, atol=1e-5)


def test_zero_node_feeds_no_pooling():
    """A pooling of a zero node is not built, so XLA has no batch-sized constant to fold at compile
    time; a pooling of a live node is. Counted against the same cell without its poolings (the
    reductions' shortcuts pool too)."""
    x = jnp.zeros((8, 16, 16, 3))

    def windows(ops):
        net = Supernet(num_classes=10, channels=4, cells_per_stage=1, affine=True,
                       genotype=search_space.Genotype(ops))
        params = jax.eval_shape(net.init, jax.random.key(0), x)["params"]
        return jax.jit(net.apply).lower({"params": params}, x).as_text().count("reduce_window")

    def unpooled(ops):
        return tuple("none" if op == "avg_pool_3x3" else op for op in ops)

    live = ("nor_conv_3x3",) + ZERO_NODE_POOLED.ops[1:]  # node 1 fed, so both poolings read it
    assert windows(ZERO_NODE_POOLED.ops) == windows(unpooled(ZERO_NODE_POOLED.ops))
    assert windows(live) > windows(unpooled(live))


def test_arch_weight_gradient_is_finite_and_nonzero():
    net = Supernet(num_classes=10, channels=4, cells_per_stage=1)
    x = jax.random.normal(jax.random.key(1), (8, 16, 16, 3))
    y = jnp.arange(8) % 10
    w = jnp.asarray(search_space.uniform_arch_weights())
    params = _init(net, x, w)

    def loss(w):
        logits = net.apply({"params": params}, x, w)
        return -jnp.mean(jax.nn.log_softmax(logits)[jnp.arange(8), y])

    g = jax.jit(jax.grad(loss))(w)
    assert g.shape == (6, 5) and bool(jnp.all(jnp.isfinite(g)))
    # 'none' outputs zero whatever its weight; every other op moves the loss.
    np.testing.assert_array_equal(g[:, 0], 0.0)
    assert bool(jnp.all(g[:, 1:] != 0.0))


def test_jit_and_no_jit_agree():
    net = Supernet(num_classes=10, channels=4, cells_per_stage=1)
    x = jax.random.normal(jax.random.key(1), (8, 16, 16, 3))
    w = jax.nn.softmax(jax.random.normal(jax.random.key(2), (6, 5)))
    params = _init(net, x, w)
    apply = lambda p, x, w: net.apply({"params": p}, x, w)
    np.testing.assert_allclose(jax.jit(apply)(params, x, w), apply(params, x, w),
                               rtol=1e-5, atol=1e-5)


def test_bad_inputs_raise_clearly():
    net = Supernet(num_classes=10, channels=4, cells_per_stage=1)
    with pytest.raises(ValueError, match="shape"):
        net.init(jax.random.key(0), jnp.ones((2, 16, 16, 3)), jnp.ones((5, 6)))
    with pytest.raises(ValueError, match="arch_weights"):
        net.init(jax.random.key(0), jnp.ones((2, 16, 16, 3)))
    with pytest.raises(ValueError, match="multiples of 4"):
        net.init(jax.random.key(0), jnp.ones((2, 18, 18, 3)), jnp.ones((6, 5)))


def test_average_pooling_matches_flax_without_counting_padding():
    import flax.linen as nn

    from dimo.space.operations import avg_pool_3x3

    x = jax.random.normal(jax.random.key(0), (3, 7, 5, 4))
    expected = nn.avg_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)), count_include_pad=False)
    np.testing.assert_allclose(avg_pool_3x3(x), expected, rtol=1e-6, atol=1e-6)
    g = jax.grad(lambda z: jnp.sum(avg_pool_3x3(z) ** 2))(x)
    g_ref = jax.grad(lambda z: jnp.sum(nn.avg_pool(z, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)),
                                                   count_include_pad=False) ** 2))(x)
    np.testing.assert_allclose(g, g_ref, rtol=1e-5, atol=1e-6)
