"""The training recipe of issue #15. Defined in dimo/configs/recipe.py (installed with DiMO);
this file is what `train_meta.py --config configs/recipe.py` loads by path."""

from dimo.configs.recipe import get_config  # noqa: F401
