"""A trained network a user keeps: a model directory, loaded back to predict.

    model = load("model_dir")
    probabilities = model.predict(images)   # uint8 [N, H, W, C], any size, grey or colour

A model directory holds ``model.json`` (the genotype, the network's size, the classes, the
input's normalisation, how it was trained, the format's version) and ``weights.msgpack``
(flax's serialisation of the parameters and the normalisation statistics measured on
training images after training, so a prediction depends on its own image only).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from datasets_meta import preprocess
from datasets_meta.samplers import normalize
from dimo.space.search_space import Genotype, GenotypeError
from dimo.space.supernet import Supernet

FORMAT = "dimo-model"
VERSION = 1
INPUT_CHANNELS = 3  # every dataset is loaded as RGB (grey images replicated)
PREDICT_BATCH = 256


class ModelError(ValueError):
    """A model directory that cannot be used, said in one line with its fix."""


@dataclasses.dataclass(frozen=True)
class Model:
    genotype: Genotype
    class_names: tuple[str, ...]
    image_size: int
    channels: int
    cells_per_stage: int
    mean: np.ndarray
    std: np.ndarray
    variables: dict  # {"params": ..., "batch_stats": ...}
    info: dict

    @property
    def network(self) -> Supernet:
        return Supernet(len(self.class_names), self.channels, self.cells_per_stage, affine=True,
                        genotype=self.genotype)

    def prepare(self, images) -> np.ndarray:
        """uint8 [N, image_size, image_size, 3] from uint8 [N, H, W, C] (C 1 or 3), as training
        read its images: channels converted, then a bilinear resize."""
        images = np.asarray(images)
        if images.ndim != 4 or images.dtype != np.uint8 or images.shape[-1] not in (1, 3):
            raise ModelError(f"images must be uint8 [N, H, W, C] with C 1 or 3 (one image: images[None]), got "
                             f"{images.dtype} {images.shape}")
        return preprocess.resize(preprocess.convert_channels(images, INPUT_CHANNELS), self.image_size)

    def predict(self, images) -> np.ndarray:
        """Class probabilities [N, classes] for uint8 images [N, H, W, C] (``prepare``)."""
        images = self.prepare(images)
        out = []
        for i in range(0, len(images), PREDICT_BATCH):
            part = images[i:i + PREDICT_BATCH]
            padded = np.zeros((PREDICT_BATCH,) + part.shape[1:], np.uint8)  # one compiled shape
            padded[:len(part)] = part
            probs = _probabilities(self.network, self.variables, jnp.asarray(self.genotype.one_hot()),
                                   padded, self.mean, self.std)
            out.append(np.asarray(probs)[:len(part)])
        return np.concatenate(out) if out else np.zeros((0, len(self.class_names)), np.float32)


@functools.partial(jax.jit, static_argnums=0)
def _probabilities(network, variables, arch, images, mean, std):
    return jax.nn.softmax(network.apply(variables, normalize(images, mean, std), arch), axis=-1)


def save(out: Path, network: Supernet, params, batch_stats, dataset, summary: dict) -> None:
    """Writes ``out/model.json`` and ``out/weights.msgpack`` (the weights first: a model.json
    always has its weights beside it)."""
    import importlib.metadata

    try:
        version = importlib.metadata.version("dimo")
    except importlib.metadata.PackageNotFoundError:  # a checkout on PYTHONPATH, not installed
        version = "unknown"
    out = Path(out)
    blob = flax.serialization.to_bytes({"params": jax.device_get(params), "batch_stats": jax.device_get(batch_stats)})
    tmp = out / "weights.msgpack.tmp"
    tmp.write_bytes(blob)
    tmp.replace(out / "weights.msgpack")
    meta = {"format": FORMAT, "version": VERSION, "dimo_version": version,
            "genotype": str(network.genotype),
            "class_names": list(dataset.class_names), "image_size": int(dataset.image_shape[0]),
            "input_channels": INPUT_CHANNELS, "channels": network.channels,
            "cells_per_stage": network.cells_per_stage, "mean": np.asarray(dataset.mean).tolist(),
            "std": np.asarray(dataset.std).tolist(), **summary}
    tmp = out / "model.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2, default=float))
    tmp.replace(out / "model.json")


def load(path) -> Model:
    """The model in directory ``path``; one-line ``ModelError`` for every way it cannot be used."""
    path = Path(path)
    meta_path = path / "model.json"
    if not meta_path.is_file():
        raise ModelError(f"{path} has no model.json: it is not a model directory written by `dimo train`"
                         + ("; the training may still be running or was interrupted (dimo train --resume)"
                            if (path / "train.json").is_file() else ""))
    try:
        meta = json.loads(meta_path.read_text())
    except ValueError as e:
        raise ModelError(f"{meta_path} is not valid JSON ({e}); train the model again") from None
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise ModelError(f"{path} is a model of format {meta.get('format')!r} version {meta.get('version')!r}; "
                         f"this DiMO reads {FORMAT!r} version {VERSION}: train it again with this version")
    try:
        genotype = Genotype.from_string(meta["genotype"])
        model = Model(genotype, tuple(meta["class_names"]), int(meta["image_size"]), int(meta["channels"]),
                      int(meta["cells_per_stage"]), np.asarray(meta["mean"], np.float32),
                      np.asarray(meta["std"], np.float32), {}, meta)
    except (KeyError, TypeError, GenotypeError) as e:
        raise ModelError(f"{meta_path} lacks or garbles a field ({e}); train the model again") from None
    try:
        variables = flax.serialization.msgpack_restore((path / "weights.msgpack").read_bytes())
        expected = jax.eval_shape(lambda: model.network.init(
            jax.random.key(0), jnp.zeros((1, model.image_size, model.image_size, INPUT_CHANNELS)),
            jnp.asarray(genotype.one_hot()))["params"])
        shapes = jax.tree.map(lambda a: tuple(a.shape), variables["params"])
        if shapes != jax.tree.map(lambda s: tuple(s.shape), expected) or "batch_stats" not in variables:
            raise ValueError("its weights do not fit the network model.json describes")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelError(f"{path / 'weights.msgpack'} cannot be used ({type(e).__name__}: {e}); "
                         f"train the model again") from None
    return dataclasses.replace(model, variables=variables)
