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
``init_lr`` is Adam's customary default, 1e-3 (Kingma and Ba, 2015): a choice that reads no
data, where the baselines' tuned rate would read the fold's tuning. A research config, judged by
the *System* rule like any other variant.
"""

from research.lopt.configs import stretch


def get_config():
    config = stretch.get_config()
    config.lopt.base = "adam"
    config.lopt.init_lr = 1e-3
    config.lopt.base_schedule = True
    return config
