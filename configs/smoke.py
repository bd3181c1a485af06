"""Smallest config that exercises every part; used by the tests. Defined in dimo/configs/smoke.py (installed with DiMO);
this file is what `train_meta.py --config configs/smoke.py` loads by path."""

from dimo.configs.smoke import get_config  # noqa: F401
