"""Default, CPU-sized meta-training on scikit-learn's bundled digits (no download). Defined in dimo/configs/default.py (installed with DiMO);
this file is what `train_meta.py --config configs/default.py` loads by path."""

from dimo.configs.default import get_config  # noqa: F401
