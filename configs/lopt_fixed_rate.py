"""The training recipe with the global rate held at Adam's tuned rate (issue #15). Defined in
dimo/configs/lopt_fixed_rate.py (installed with DiMO); this file is what `train_meta.py --config
configs/lopt_fixed_rate.py` loads by path."""

from dimo.configs.lopt_fixed_rate import get_config  # noqa: F401
