"""Config strings of NAME:VALUE pairs, parsed and checked in one place.

    name_values("colour:0.5,texture:0.5", "task.transforms", TRANSFORMS, "PROBABILITY",
                lambda p: 0 <= p <= 1, "in [0, 1]")   # {"colour": 0.5, "texture": 0.5}

``meta.dataset_weights``, ``meta.group_learning_rates`` and ``task.transforms`` are such strings
(a flag-friendly form of a small mapping); their errors name the key, the entry and the fix alike.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence


def name_values(text: str, key: str, names: Sequence[str], what: str,
                valid: Callable[[float], bool] = lambda v: True, must: str = "") -> dict[str, float]:
    """'a:1, b:2' -> {name: value}, in the order written ('' -> {}). ``ValueError`` naming ``key``
    for an entry that is not NAME:``what`` with NAME among ``names``, a value that is not a number,
    or one ``valid`` refuses (``must`` says what it must be)."""
    pairs = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, sep, value = (x.strip() for x in item.partition(":"))
        if not sep or name not in names:
            raise ValueError(f"{key} entry {item!r} must be NAME:{what} with NAME one of {', '.join(names)}")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"{key}: {what.lower()} {value!r} of {name} is not a finite number")
        if not valid(number):
            raise ValueError(f"{key}: {what.lower()} of {name} must be {must}, got {value}")
        pairs[name] = number
    return pairs
