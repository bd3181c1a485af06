"""The training-recipe config (issue #15). Defined in dimo/configs/lopt.py (installed with DiMO);
this file is what `train_meta.py --config configs/lopt.py` loads by path."""

from dimo.configs.lopt import get_config  # noqa: F401
