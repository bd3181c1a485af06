"""#38's baseline-as-base hypothesis: a learned optimizer that starts as the Adam it is judged against.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant scheduled_200 \
        --config research/lopt/configs/scheduled.py --fold mnist --seed 0     # one System result

``stretch.py`` (a 200-step life, the training seen as that life stretched to its length) with
the base direction Adam's (``lopt.base = "adam"``) and its step size on the baselines' schedule
(``lopt.base_schedule``: a warm-up over 5 % of the training, a cosine to 0 at its end). With the
head at zero this optimizer *is* Adam with warm-up and cosine at ``init_lr``, the form of
research/lopt/PROTOCOL.md's baselines; meta-training learns corrections to it and the rate
(``log_lr`` stays learned; the decoded ``lr_scale`` multiplies it). Why: in the System results
(research/lopt/README.md) the momentum-based optimizers trail scheduled Adam by 1-3 points of
validation accuracy, and telling the optimizer the training's length (``stretch_200``) halved the
gap on its one fold; here the schedule is given instead of discovered from 10-step truncations.
``init_lr`` is the Adam rate that tuning on the meta-training datasets' validation splits chose
for H on three of the four folds (4.64e-3 of the grid; 1e-2 on the fourth; the System results of
``results/lopt_leave_one_out/meta_validation.jsonl``): a choice read from meta-training datasets'
validation splits, where the *System* rule makes its choices, and from no held-out dataset. (Adam's
customary 1e-3 would start below every tuned rate, and a learned ``log_lr`` moves about 0.2 in
log over 200 meta-steps at the meta learning rate of 1e-3.) A research config, judged by
the *System* rule like any other variant.
"""

from dimo.studies.schedules import LEARNING_RATES
from research.lopt.configs import stretch

INIT_LR = LEARNING_RATES["adam"][5]  # 4.64e-3


def get_config():
    config = stretch.get_config()
    config.lopt.base = "adam"
    config.lopt.init_lr = INIT_LR
    config.lopt.base_schedule = True
    return config
