"""Paper-sized meta-training for accelerators: 32x32, C=16, longer unrolls. Defined in dimo/configs/gpu.py (installed with DiMO);
this file is what `train_meta.py --config configs/gpu.py` loads by path."""

from dimo.configs.gpu import get_config  # noqa: F401
