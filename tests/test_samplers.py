import jax
import jax.numpy as jnp
import numpy as np
import pytest

from datasets_meta import samplers


@pytest.fixture(scope="module")
def split():
    # Image i is filled with the value i, so sampled images reveal which example they are.
    labels = np.array([0, 1, 2, 3] * 10 + [3, 3])
    images = np.broadcast_to(np.arange(len(labels), dtype=np.uint8)[:, None, None, None],
                             (len(labels), 4, 4, 1)).copy()
    return samplers.make_split(images, labels, 4)


def _which(images):
    return np.asarray(images[:, 0, 0, 0])


def test_split_class_index(split):
    np.testing.assert_array_equal(split.class_count, [10, 10, 10, 12])
    for c in range(4):
        members = np.asarray(split.class_index[c, :int(split.class_count[c])])
        assert np.all(np.asarray(split.labels)[members] == c)


def test_sample_batch_is_a_pure_function_of_the_key(split):
    fn = jax.jit(samplers.sample_batch, static_argnums=2)
    x1, y1 = fn(jax.random.key(0), split, 16)
    x2, y2 = fn(jax.random.key(0), split, 16)
    x3, _ = fn(jax.random.key(1), split, 16)
    np.testing.assert_array_equal(x1, x2)
    assert not np.array_equal(x1, x3)
    np.testing.assert_array_equal(np.asarray(split.labels)[_which(x1)], y1)


def test_task_batch_relabels_and_balances(split):
    classes = samplers.sample_classes(jax.random.key(3), 4, 2)
    assert len(set(np.asarray(classes).tolist())) == 2
    x, y = jax.jit(samplers.sample_task_batch, static_argnums=3)(jax.random.key(4), split, classes, 400)
    original = np.asarray(split.labels)[_which(x)]
    np.testing.assert_array_equal(original, np.asarray(classes)[np.asarray(y)])
    assert set(np.asarray(y).tolist()) == {0, 1}
    assert abs(np.mean(np.asarray(y)) - 0.5) < 0.1


def test_support_set_is_class_balanced_and_without_replacement(split):
    classes = jnp.array([3, 1, 0])
    x, y = jax.jit(samplers.support_set, static_argnums=3)(jax.random.key(5), split, classes, 5)
    assert x.shape == (15, 4, 4, 1)
    np.testing.assert_array_equal(y, np.repeat([0, 1, 2], 5))
    which = _which(x).reshape(3, 5)
    for row, cls in zip(which, [3, 1, 0]):
        assert len(set(row.tolist())) == 5  # distinct examples
        assert np.all(np.asarray(split.labels)[row] == cls)


def test_normalize(split):
    x = samplers.normalize(jnp.full((1, 2, 2, 3), 255, jnp.uint8), jnp.full(3, 0.5), jnp.full(3, 0.25))
    np.testing.assert_allclose(x, 2.0)
