"""The training-recipe config (issue #15): the proposal recipe with a learned optimizer that
corrects Adam's direction, meta-trained at rates of its own.

    DIMO_DATA_DIR=../shared/data python train_meta.py --config research/lopt/configs/lopt.py
    dimo ablate --workdir runs/<time> --dataset cifar10 --seeds 3

``research/proposals/configs/propose.py`` with two changes:

* ``lopt.base = "adam"`` at ``init_lr = 3e-3``: the learned optimizer's residual corrects
  Adam's direction instead of SGD's, so at initialisation it *is* Adam (one learned
  learning-rate scale and no correction). 3e-3 is the rate Adam's tuning on the
  meta-training datasets chose at the meta-trained horizon (`dimo ablate`, docs/results.md);
  cifar10 did not enter it.
* ``meta.group_learning_rates = "optimizer:1e-2,teacher:1e-2"``: with one meta-rate of 1e-3,
  100 meta-steps moved the optimizer's meta-parameters by under 0.07 (its log learning
  rate by 0.007): the learned optimizer stayed its initialisation.
"""

from research.proposals.configs import propose


def get_config():
    config = propose.get_config()
    config.lopt.base = "adam"
    config.lopt.init_lr = 3e-3
    config.meta.group_learning_rates = "optimizer:1e-2,teacher:1e-2"
    return config
