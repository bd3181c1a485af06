"""The proposal recipe (issue #13). Defined in dimo/configs/propose.py (installed with DiMO);
this file is what `train_meta.py --config configs/propose.py` loads by path."""

from dimo.configs.propose import get_config  # noqa: F401
