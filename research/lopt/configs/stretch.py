"""#38's schedule hypothesis: a learned optimizer that knows how far its training has come.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant stretch_200 \
        --config research/lopt/configs/stretch.py --fold mnist --seed 0     # one System result

The recommended config (``dimo/configs/recommended.py``) with persistent inner states over a
life of 200 steps (``inner.lifetime``), the training-progress feature over that life
(``lopt.progress_horizon``), and a training of T steps seen as that life stretched to T
(``lopt.stretch_to_length``): progress reaches 1 at the end of any training, as the cosine of the
Adam it is judged against does at the horizon it is given. Why: in the System results of
2026-12-03 the recommended optimizer (meta-trained on 10-step truncations, with no notion of a
training's length) trails Adam with warm-up and cosine by 1-3 points of validation accuracy on
kmnist and fashion_mnist, more at 2H than at H (research/lopt/README.md); its time features at
step 200-400 are values its meta-training never showed it. A research config, judged by
research/lopt/PROTOCOL.md's *System* rule like any other variant.
"""

from dimo.configs import recommended
from research.lopt import H_STEPS

LIFE = H_STEPS  # the protocol's H: the life a training is stretched from


def get_config():
    config = recommended.get_config()
    config.inner.lifetime = LIFE
    config.lopt.progress_horizon = LIFE
    config.lopt.stretch_to_length = True
    # The loss its results, scheduled.py's and the judged leave-one-out study's were measured with:
    # the recommended config's until 2026-12-05, when it became cross-entropy.
    config.inner.loss = "teacher"
    return config
