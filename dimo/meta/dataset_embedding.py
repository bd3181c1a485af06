"""Dataset embedding: a permutation-invariant set encoder over a labelled support set.

As in MetaD2A's set encoder, in two levels: a small conv network embeds each image; the
embeddings are averaged within each class (a class prototype, with a per-class MLP
after); the prototypes are pooled across classes by attention from a learned seed query
(Set Transformer's pooling by multi-head attention, PMA), then mapped to the dataset
code. Averages and attention pooling are invariant to the order of the examples and of
the classes, and work for any number of classes and shots.

>>> import jax, jax.numpy as jnp
>>> enc = DatasetEncoder(code_size=16)
>>> x, y = jnp.zeros((12, 16, 16, 3)), jnp.arange(12) % 3
>>> params = enc.init(jax.random.key(0), x, y, 3)['params']
>>> enc.apply({'params': params}, x, y, 3).shape
(16,)
"""

from __future__ import annotations

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

from dimo.space.operations import Conv, batch_norm


@dataclasses.dataclass(frozen=True)
class EmbeddingConfig:
    feature_size: int = 32
    code_size: int = 32
    num_heads: int = 4


class ImageFeatures(nn.Module):
    """Conv-ReLU-pool twice, then global average: one feature vector per image."""

    features: int = 32

    @nn.compact
    def __call__(self, x):
        for i, width in enumerate((self.features // 2, self.features)):
            x = nn.relu(batch_norm(Conv(width, 3, name=f"conv{i}")(x)))
            x = nn.avg_pool(x, (2, 2), strides=(2, 2))
        return jnp.mean(x, axis=(1, 2))


class DatasetEncoder(nn.Module):
    code_size: int = 32
    feature_size: int = 32
    num_heads: int = 4

    @nn.compact
    def __call__(self, images, labels, num_classes: int):
        per_image = ImageFeatures(self.feature_size, name="image")(images)
        members = jax.nn.one_hot(labels, num_classes, dtype=per_image.dtype)  # [S, k]
        counts = jnp.maximum(members.sum(0), 1.0)[:, None]
        prototypes = members.T @ per_image / counts  # [k, F], mean within each class
        prototypes = nn.Dense(self.feature_size, name="class_mlp")(nn.relu(prototypes))
        seed = self.param("seed", nn.initializers.normal(1.0), (1, self.feature_size))
        pooled = nn.MultiHeadDotProductAttention(num_heads=self.num_heads, name="pool")(
            seed[None], prototypes[None])[0, 0]  # attention over classes: order-free
        return nn.Dense(self.code_size, name="code")(nn.relu(pooled))


def encoder(cfg: EmbeddingConfig) -> DatasetEncoder:
    return DatasetEncoder(cfg.code_size, cfg.feature_size, cfg.num_heads)


def init_embedding(key, cfg: EmbeddingConfig, image_shape, num_classes: int):
    images = jnp.zeros((num_classes,) + tuple(image_shape))
    return encoder(cfg).init(key, images, jnp.arange(num_classes), num_classes)["params"]


def embed(params, cfg: EmbeddingConfig, images, labels, num_classes: int):
    """The dataset code of a support set (normalised float images, labels 0..k-1)."""
    return encoder(cfg).apply({"params": params}, images, labels, num_classes)
