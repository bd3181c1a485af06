"""A meta-training config: migrated once when read, then checked in one place.

``migrate`` gives a config written by an older DiMO the keys added since, each with the value
that means what that run did, so every reader can use ``config.a.b`` directly. ``validate``
and ``validate_for_run`` raise one ``ConfigError`` naming the key, its value and what it must
be (``train_meta.py`` prints it as one ``error:`` line).
"""

from __future__ import annotations

import copy

import ml_collections

from dimo.inner import meta_objective, shadow_rate
from dimo.meta import task_transforms
from dimo.meta.outer_optimizer import parse_group_rates
from dimo.meta.system import META_GROUPS
from dimo.space import relaxations

# Experiment switches that no shipped config turns on, at their off value. They are not in
# dimo/configs/default.py (the default is what we recommend): a research config that studies one
# sets it (research/<study>/configs/), and every other config reads it off from here.
SWITCHES_OFF = {"model.normalize_free_ops": False, "inner.meta_loss": "ce", "inner.age_weighted": False,
                "inner.rate_gradient": "truncated", "lopt.progress_horizon": 0, "lopt.stretch_to_length": False,
                "lopt.base_schedule": False, "lopt.fixed_rate": False, "teacher.learn_temperature": True,
                "meta.ema_decay": 0.0, "meta.dataset_weights": "", "task.transforms": ""}
# Keys added to the default config after runs were written, with the value that reproduces
# those runs: a config.json written before a key existed resumes, and loads, as if it held it.
ADDED_KEYS = {"meta.group_learning_rates": "", "meta.lr_decay_steps": 0, "inner.lifetime": 0,
              "decoder.relaxation": "softmax", **SWITCHES_OFF}


class ConfigError(ValueError):
    """A config value that cannot work; the message names the key and the fix."""


def migrate(config: dict | ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """``config`` with every key of ``ADDED_KEYS`` it lacks set to its off value or old meaning."""
    raw = copy.deepcopy(config.to_dict() if isinstance(config, ml_collections.ConfigDict) else config)
    for dotted, value in ADDED_KEYS.items():
        group, key = dotted.split(".")
        if group in raw and key not in raw[group]:
            raw[group][key] = value
    return ml_collections.ConfigDict(raw)


def _parses(parse, value) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def validate(config: ml_collections.ConfigDict) -> None:
    checks = [
        ("meta.steps", config.meta.steps >= 1, "at least 1"),
        ("meta.tasks_per_step", config.meta.tasks_per_step >= 1, "at least 1"),
        ("meta.learning_rate", config.meta.learning_rate > 0, "positive"),
        ("meta.clip_norm", config.meta.clip_norm > 0, "positive"),
        ("meta.ema_decay", 0 <= config.meta.ema_decay < 1, "in [0, 1)"),
        ("meta.lr_decay_steps", config.meta.lr_decay_steps >= 0, "0 (constant rates) or more"),
        ("meta.group_learning_rates", _parses(parse_group_rates, config.meta.group_learning_rates),
         f"GROUP:RATE,... with GROUP among {', '.join(META_GROUPS)} and positive rates"),
        ("meta.checkpoint_every", config.meta.checkpoint_every >= 1, "at least 1"),
        ("meta.max_consecutive_bad", config.meta.max_consecutive_bad >= 1, "at least 1"),
        ("task.classes_per_task", config.task.classes_per_task >= 2, "at least 2"),
        ("task.transforms", _parses(task_transforms.parse, config.task.transforms),
         f"NAME:PROBABILITY,... with NAME among {', '.join(task_transforms.TRANSFORMS)} and probabilities in [0, 1]"),
        ("task.support_shots", 1 <= config.task.support_shots <= config.task.per_class,
         f"between 1 and task.per_class ({config.task.per_class})"),
        ("data.image_size", config.data.image_size >= 4 and config.data.image_size % 4 == 0,
         "a positive multiple of 4"),
        ("inner.learning_rate", config.inner.learning_rate > 0, "positive"),
        ("inner.steps", config.inner.steps >= 1, "at least 1"),
        ("inner.meta_loss", config.inner.meta_loss in meta_objective.META_LOSSES,
         f"one of {', '.join(meta_objective.META_LOSSES)}"),
        ("inner.age_weighted", not config.inner.age_weighted or config.inner.lifetime > 0,
         "False, or True with persistent inner states (inner.lifetime > 0): it weights a slot's meta-loss by "
         "its network's age"),
        ("inner.rate_gradient", config.inner.rate_gradient in shadow_rate.RATE_GRADIENTS
         and (config.inner.rate_gradient == "truncated" or config.inner.lifetime > 0),
         f"one of {', '.join(shadow_rate.RATE_GRADIENTS)}; \"shadow\" with persistent inner states "
         "(inner.lifetime > 0), whose lives it differentiates over"),
        ("lopt.progress_horizon", config.lopt.progress_horizon >= 0,
         "0 (no progress feature) or the horizon the optimizer trains for, e.g. inner.lifetime"),
        ("lopt.stretch_to_length", not config.lopt.stretch_to_length
         or config.lopt.progress_horizon == config.inner.lifetime > 0,
         "False, or True with lopt.progress_horizon equal to inner.lifetime, the life it stretches (the "
         "optimizer's and the teacher's progress are both over it)"),
        ("lopt.base_schedule", not config.lopt.base_schedule or config.lopt.stretch_to_length,
         "False, or True with lopt.stretch_to_length (the schedule runs over the stretched life)"),
        ("decoder.temperature", config.decoder.temperature > 0, "positive"),
        ("decoder.max_lr_scale", config.decoder.max_lr_scale >= 1.0,
         "at least 1 (the decoded rate multiplier lies in [1/max, max]; 1 fixes it at 1)"),
        ("decoder.relaxation", config.decoder.relaxation in relaxations.RELAXATIONS,
         f"one of {', '.join(relaxations.RELAXATIONS)}"),
    ]
    for key, ok, what in checks:
        if not ok:
            raise ConfigError(f"config value {key}={_get(config, key)!r} is invalid: it must be {what}")


def validate_for_run(config: ml_collections.ConfigDict, num_devices: int, smallest_num_classes: int) -> None:
    """The checks that need the run's devices and datasets."""
    if config.task.classes_per_task > smallest_num_classes:
        raise ConfigError(f"task.classes_per_task={config.task.classes_per_task} exceeds the "
                          f"{smallest_num_classes} classes of the smallest dataset; lower it")
    if config.meta.tasks_per_step % num_devices:
        raise ConfigError(f"meta.tasks_per_step={config.meta.tasks_per_step} must be a multiple of "
                          f"the {num_devices} devices in use (or set meta.num_devices)")


def _get(config, dotted):
    for part in dotted.split("."):
        config = config[part]
    return config
