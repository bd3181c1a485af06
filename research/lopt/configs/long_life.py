"""#38's horizon hypothesis: the second judged config meta-trained on networks that live 1,000 steps.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant ten_life1000 \
        --config research/lopt/configs/long_life.py --fold kmnist --seed 0 --diagnostic 10H

``scheduled_ten.py`` (the second judged run's config) with each task slot's network living
``LIFE`` = 1,000 inner steps instead of 200, and the training-progress feature, the base schedule
and the stretch of a T-step training all over that life (``lopt.progress_horizon``); nothing
else changes (the teacher, 10-class tasks, K = 10, 200 meta-steps). Why: in the second judged
run the optimizer is level with or ahead of scheduled Adam at H and 2H and behind it at 10H =
2,000 steps on all six tested datasets, in validation loss by +0.09 to +0.14 on kmnist,
fashion_mnist, cifar10 and tiny_imagenet20 (research/lopt/README.md); stretched from a 200-step life, the late steps of a
2,000-step training hold networks far more trained than any its meta-training showed it. One
thing comes with the change and is not the hypothesis: at 200 meta-steps and two slots, a slot
lives 100 meta-steps, so the run sees about 5 tasks instead of about 20. A research config, measured
by research/lopt/README.md's pre-registration of ``ten_life1000``; no held-out image is read.
"""

from research.lopt.configs import scheduled_ten

LIFE = 1000


def get_config():
    config = scheduled_ten.get_config()
    config.inner.lifetime = LIFE
    config.lopt.progress_horizon = LIFE
    return config
