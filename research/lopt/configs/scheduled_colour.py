"""#38's task-breadth hypothesis: the System optimizer meta-trained on colour and texture tasks too.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant scheduled_colour_200 \
        --config research/lopt/configs/scheduled_colour.py --fold mnist --seed 0     # one System result

``scheduled.py`` (the System the leave-one-out study judged) with half its meta-training tasks made
colour tasks from the grey datasets, half of those on a smooth random colour field as paper
(``task.transforms``, ``dimo.meta.task_transforms``); nothing else changes, the teacher included,
so a difference is the task family's. Why: the judged study found the optimizer level with
scheduled Adam on the four grey datasets and behind it on the two colour ones (cifar10 -0.0097 /
-0.0044, tiny_imagenet20 +0.0008 / -0.0117 at H / 2H), and every meta-training dataset is grey. No
held-out image is read. A research config, judged by research/lopt/PROTOCOL.md's *System* rule.
"""

from research.lopt.configs import scheduled
from research.proposals.configs.colour_tasks import TRANSFORMS


def get_config():
    config = scheduled.get_config()
    config.task.transforms = TRANSFORMS
    return config
