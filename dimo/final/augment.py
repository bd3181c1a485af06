"""Data augmentation inside the compiled step: random crops of a padded image, horizontal flips."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def crop_and_flip(key, images, padding: int, flip: bool):
    """``images`` [B, H, W, C] (normalised, so zero padding is the mean colour), each cropped at
    a random offset from the image padded by ``padding`` pixels and, with ``flip``, mirrored
    with probability 1/2."""
    crop_key, flip_key = jax.random.split(key)
    batch, height, width, channels = images.shape
    if padding:
        padded = jnp.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
        offsets = jax.random.randint(crop_key, (batch, 2), 0, 2 * padding + 1)
        images = jax.vmap(lambda image, o: jax.lax.dynamic_slice(
            image, (o[0], o[1], 0), (height, width, channels)))(padded, offsets)
    if flip:
        mirrored = jax.random.bernoulli(flip_key, 0.5, (batch, 1, 1, 1))
        images = jnp.where(mirrored, images[:, :, ::-1], images)
    return images
