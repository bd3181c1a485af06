"""Colour and texture tasks made from grey ones (dimo.meta.task_transforms)."""

import jax
import numpy as np
import pytest

from datasets_meta import load
from dimo.configs import smoke
from dimo.meta import config as meta_config
from dimo.meta import task_transforms
from dimo.meta import tasks as task_sampler

SIZES = dict(seed=0, tasks_per_step=4, classes_per_task=3, per_class=8, support_shots=2)


@pytest.fixture(scope="module")
def digits():
    return load("digits", image_size=8)


def _batch(digits, transforms, step=0):
    weights = task_sampler.parse_weights("", ["digits"])
    return task_sampler.sample_tasks([digits], weights, step=step, transforms=transforms, **SIZES)


def _grey(images):
    images = np.asarray(images)
    return np.all(images[..., :1] == images[..., 1:], axis=(1, 2, 3))


def test_parse_reads_probabilities_and_names_a_bad_entry():
    assert task_transforms.parse("") == {}
    assert task_transforms.parse("colour:0.5, texture:1") == {"colour": 0.5, "texture": 1.0}
    for bad, says in (("hue:0.5", "NAME:PROBABILITY"), ("colour", "NAME:PROBABILITY"),
                      ("colour:x", "not a finite number"), ("colour:inf", "not a finite number"),
                      ("colour:1.5", r"in \[0, 1\]")):
        with pytest.raises(ValueError, match=says):
            task_transforms.parse(bad)
    config = smoke.get_config()
    config.task.transforms = "colour:2"
    with pytest.raises(meta_config.ConfigError, match="task.transforms"):
        meta_config.validate(meta_config.migrate(config))


def test_colour_tasks_keep_the_draw_shapes_and_labels_and_differ_from_grey(digits):
    plain, off, colour = _batch(digits, ""), _batch(digits, "colour:0"), _batch(digits, "colour:1")
    assert _grey(plain.tasks.train.images).all()
    # Probability 0 is the switch off; the transforms draw from a generator of their own, so the
    # classes, labels and example choice are those of a run without them.
    jax.tree.map(np.testing.assert_array_equal, off, plain)
    for split in ("train", "val"):
        np.testing.assert_array_equal(getattr(colour.tasks, split).labels, getattr(plain.tasks, split).labels)
        assert not _grey(getattr(colour.tasks, split).images).any()
    np.testing.assert_array_equal(colour.tasks.classes, plain.tasks.classes)
    # One compiled meta-step serves both: every leaf has the same shape and dtype.
    spec = lambda batch: jax.tree.map(lambda x: (np.shape(x), np.asarray(x).dtype), batch)
    assert spec(colour) == spec(plain)
    # Statistics are the transformed training images', per task.
    first = np.asarray(colour.tasks.train.images[0], np.float32) / 255
    np.testing.assert_allclose(colour.tasks.mean[0], first.mean((0, 1, 2)), atol=1e-5)
    assert not np.allclose(colour.tasks.mean[0], colour.tasks.mean[1])
    # The embedding reads the colour images: the support set is the task's first train images.
    assert not _grey(colour.support_images.reshape(-1, *colour.support_images.shape[2:])).any()
    jax.tree.map(np.testing.assert_array_equal, colour, _batch(digits, "colour:1"))  # a pure function
    assert not np.array_equal(colour.tasks.train.images, _batch(digits, "colour:1", step=1).tasks.train.images)


def test_texture_gives_paper_structure_and_only_grey_tasks_change(digits):
    flat, textured = _batch(digits, "colour:1"), _batch(digits, "colour:1,texture:1")
    plain = _batch(digits, "")
    paper = np.asarray(plain.tasks.train.images)[..., 0] == 0  # digits' background is exactly 0

    def paper_spread(batch):
        images = np.asarray(batch.tasks.train.images, np.float32)
        return np.mean([images[t, n][paper[t, n]].std(0).mean()
                        for t in range(images.shape[0]) for n in range(images.shape[1]) if paper[t, n].sum() > 4])

    assert paper_spread(flat) == pytest.approx(0, abs=1e-6)
    assert paper_spread(textured) > 5  # on the 0-255 scale
    task = jax.tree.map(lambda x: np.asarray(x)[0], flat.tasks)  # already colour: passes through
    again = task_transforms.apply(task, {"colour": 1.0}, np.random.default_rng(0))
    jax.tree.map(np.testing.assert_array_equal, again, task)

