"""The training recipe with the global rate held at Adam's tuned rate (issue #15).

    DIMO_DATA_DIR=../shared/data python train_meta.py --config research/lopt/configs/lopt_fixed_rate.py
    dimo ablate --workdir runs/<time> --dataset cifar10 --seeds 3 --no_embedding

``research/lopt/configs/lopt.py`` with nothing meta-learned that sets the overall step size:

* ``lopt.fixed_rate``: the learned optimizer's ``log_lr`` stays at ``init_lr`` = 3e-3, the
  rate Adam's tuning on the meta-training datasets chose at the meta-trained horizon H, and
  its learned log step size is centred on each tensor (it moves step size between a
  tensor's coordinates, not the tensor's rate);
* ``decoder.max_lr_scale = 1``: the decoder's rate multiplier is 1 for every dataset.

Why: in 7 of 9 runs of ``research/lopt/configs/lopt.py`` and its variants the decoded rate multiplier
rose during meta-training (1.0 -> 1.13-1.43, the runs' metrics.jsonl). A 10-step truncation
rewards larger steps (short-horizon bias) and the multiplier, the same for every dataset, is
then applied far past the truncations it was fitted on. The direction residual and the
per-coordinate step sizes stay learned; the global rate comes from a tuning that saw the
whole horizon.
"""

from research.lopt.configs import lopt


def get_config():
    config = lopt.get_config()
    config.lopt.fixed_rate = True
    config.decoder.max_lr_scale = 1.0
    return config
