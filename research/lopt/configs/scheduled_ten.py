"""#38's class-count hypothesis: the System optimizer meta-trained on 10-class tasks, as it is judged.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant scheduled_ten_200 \
        --config research/lopt/configs/scheduled_ten.py --fold mnist --seed 0     # one System result

``scheduled.py`` (the System the leave-one-out study judged) with tasks of 10 classes
(``task.classes_per_task``) instead of 5; nothing else changes, the teacher and the 40 examples a
class included, so a difference is the class count's. Why: every training the study judges is
10-way (tiny_imagenet20's 20-way), while the optimizer was meta-trained on 5-way tasks, so the
loss it starts from (log 5 against log 10), the output layer's gradients and how a task's
classes crowd each other are ones its meta-training never showed it. On the four 10-class
meta-training datasets a task is then every class under a random relabelling. The inner step's
cost is nearly unchanged (the batches are the same size; the output layer has 10 units instead
of 5, and the support set 50 images instead of 25). No held-out image is read. A research
config, judged by research/lopt/PROTOCOL.md's *System* rule.
"""

from research.lopt.configs import scheduled

CLASSES = 10


def get_config():
    config = scheduled.get_config()
    config.task.classes_per_task = CLASSES
    return config
