"""Checks of a meta-training config before anything runs: one ``ConfigError`` naming the key,
its value and what it must be (``train_meta.py`` prints it as one ``error:`` line)."""

from __future__ import annotations

import ml_collections

from dimo.inner import meta_objective

from dimo.space import relaxations
from dimo.meta.state import META_GROUPS, ema_decay_of, group_rates_of, lr_decay_steps_of
from dimo.infra.workdir import ADDED_KEYS


class ConfigError(ValueError):
    """A config value that cannot work; the message names the key and the fix."""


def _parses(parse, config) -> bool:
    try:
        parse(config)
    except ValueError:
        return False
    return True


def validate(config: ml_collections.ConfigDict) -> None:
    checks = [
        ("meta.steps", config.meta.steps >= 1, "at least 1"),
        ("meta.tasks_per_step", config.meta.tasks_per_step >= 1, "at least 1"),
        ("meta.learning_rate", config.meta.learning_rate > 0, "positive"),
        ("meta.clip_norm", config.meta.clip_norm > 0, "positive"),
        ("meta.ema_decay", 0 <= ema_decay_of(config) < 1, "in [0, 1)"),
        ("meta.lr_decay_steps", lr_decay_steps_of(config) >= 0, "0 (constant rates) or more"),
        ("meta.group_learning_rates", _parses(group_rates_of, config),
         f"GROUP:RATE,... with GROUP among {', '.join(META_GROUPS)} and positive rates"),
        ("meta.checkpoint_every", config.meta.checkpoint_every >= 1, "at least 1"),
        ("meta.max_consecutive_bad", config.meta.max_consecutive_bad >= 1, "at least 1"),
        ("task.classes_per_task", config.task.classes_per_task >= 2, "at least 2"),
        ("task.support_shots", 1 <= config.task.support_shots <= config.task.per_class,
         f"between 1 and task.per_class ({config.task.per_class})"),
        ("data.image_size", config.data.image_size >= 4 and config.data.image_size % 4 == 0,
         "a positive multiple of 4"),
        ("inner.learning_rate", config.inner.learning_rate > 0, "positive"),
        ("inner.steps", config.inner.steps >= 1, "at least 1"),
        ("inner.meta_loss", config.inner.get("meta_loss", ADDED_KEYS["inner.meta_loss"]) in meta_objective.META_LOSSES,
         f"one of {', '.join(meta_objective.META_LOSSES)}"),
        ("lopt.progress_horizon", config.lopt.get("progress_horizon", ADDED_KEYS["lopt.progress_horizon"]) >= 0,
         "0 (no progress feature) or the horizon the optimizer trains for, e.g. inner.lifetime"),
        ("decoder.temperature", config.decoder.temperature > 0, "positive"),
        ("decoder.max_lr_scale", config.decoder.max_lr_scale >= 1.0,
         "at least 1 (the decoded rate multiplier lies in [1/max, max]; 1 fixes it at 1)"),
        ("decoder.relaxation", config.decoder.get("relaxation", "softmax") in relaxations.RELAXATIONS,
         f"one of {', '.join(relaxations.RELAXATIONS)}"),
    ]
    for key, ok, what in checks:
        if not ok:
            raise ConfigError(f"config value {key}={_get(config, key)!r} is invalid: it must be {what}")


def _get(config, dotted):
    for part in dotted.split("."):
        config = config[part]
    return config
