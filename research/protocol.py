"""Dataset roles for every study, read from ``research/dataset_roles.json`` (PROTOCOL.md says why).

    from research import protocol
    protocol.check_meta_training(config.datasets)        # refuses a held-out dataset
    protocol.record_look("cifar10", result, what="...")  # a held-out test split was read
"""

from __future__ import annotations

from dimo.infra import looks

_ROLES = looks.roles()
META_TRAINING: tuple[str, ...] = tuple(_ROLES["meta_training"])
HELD_OUT: tuple[str, ...] = tuple(_ROLES["held_out"])
LEDGER = looks.REPO / _ROLES["ledger"]
record_look = looks.record


def meta_validation_folds() -> list[tuple[tuple[str, ...], str]]:
    """(datasets to meta-train on, the one judged on its validation split): each in turn."""
    return [(tuple(d for d in META_TRAINING if d != held), held) for held in META_TRAINING]


def check_meta_training(datasets) -> None:
    """A study meta-trains, tunes and chooses on meta-training datasets only."""
    names = [d.strip() for d in datasets.split(",")] if isinstance(datasets, str) else list(datasets)
    held = [d for d in names if d in HELD_OUT]
    if held:
        raise ValueError(f"{', '.join(held)} is held out (research/dataset_roles.json): no meta-training, "
                         f"tuning or choice reads it; use {', '.join(META_TRAINING)}")
