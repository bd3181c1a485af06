"""The recommended recipe. Defined in dimo/configs/recommended.py (installed with DiMO); this file is
what `train_meta.py --config configs/recommended.py` loads by path."""

from dimo.configs.recommended import get_config  # noqa: F401
