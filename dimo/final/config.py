"""What a final training is: the network's size, how long, and how it is trained.

Two presets. ``small`` is sized for a CPU: a NAS-Bench-201 skeleton with one cell per stage at
C=16 on 32x32 images, random crops and no flips (a flipped digit or letter is another
symbol). ``nas-bench-201`` is NAS-Bench-201's own protocol (Dong & Yang, 2020): C=16, N=5,
32x32, SGD with Nesterov momentum 0.9 from 0.1 along a cosine to 0, weight decay 5e-4,
batch 256, 200 epochs, random crops with 4 pixels of padding and horizontal flips; it is
for accelerators (``benchmarks/gpu_check.sh`` runs one epoch of it).
"""

from __future__ import annotations

import dataclasses

OPTIMIZERS = ("sgd", "adam", "learned")


@dataclasses.dataclass(frozen=True)
class FinalConfig:
    channels: int = 16  # C of the first stage (then 2C, 4C)
    cells_per_stage: int = 1  # N
    image_size: int = 32
    batch_size: int = 64
    epochs: int = 30  # with a time budget, the number that fits replaces it
    optimizer: str = "sgd"  # sgd | adam | learned (a meta-trained system's)
    learning_rate: float = 0.1  # the peak of the cosine, times a proposal's learning-rate scale
    momentum: float = 0.9  # sgd
    nesterov: bool = True  # sgd
    weight_decay: float = 5e-4  # a proposal's recipe replaces it
    warmup_epochs: float = 0.0  # linear warm-up before the cosine
    crop_padding: int = 4  # random crops of the image padded by this many pixels; 0: none
    flip: bool = False  # random horizontal flips
    chunk: int = 20  # steps per compiled call: the progress bar's and Ctrl-C's granularity
    eval_batch: int = 500
    seed: int = 0

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        for name in ("channels", "cells_per_stage", "batch_size", "epochs", "chunk", "eval_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.image_size < 4 or self.image_size % 4:
            raise ValueError(f"image_size must be a positive multiple of 4 (two stride-2 reductions), "
                             f"got {self.image_size}")
        if self.learning_rate <= 0 or self.weight_decay < 0 or self.warmup_epochs < 0 or self.crop_padding < 0:
            raise ValueError("learning_rate must be positive; weight_decay, warmup_epochs and crop_padding "
                             "non-negative")


PRESETS = {
    "small": FinalConfig(),
    "nas-bench-201": FinalConfig(channels=16, cells_per_stage=5, image_size=32, batch_size=256, epochs=200,
                                 optimizer="sgd", learning_rate=0.1, momentum=0.9, nesterov=True,
                                 weight_decay=5e-4, crop_padding=4, flip=True),
}


def preset(name: str, **overrides) -> FinalConfig:
    """A preset with some fields replaced (``None`` values are ignored)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return dataclasses.replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})
