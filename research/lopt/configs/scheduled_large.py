"""#38's task-size hypothesis: the System optimizer meta-trained on tasks as large as the trainings it is judged on.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant scheduled_large_200 \
        --config research/lopt/configs/scheduled_large.py --fold mnist --seed 0     # one System result

``scheduled.py`` (the System the leave-one-out study judged) with 1,000 training and validation
examples of each class per meta-training task (``task.per_class``) instead of 40; nothing else
changes, the teacher included, so a difference is the tasks' size. Why: a meta-training task of
5 classes x 40 holds 200 images, and a network's 200-step life at 32 a batch goes over them 32
times, so the meta-objective rewards what helps a network that memorises a small set. The
trainings the study judges see a whole training split (mnist and fashion_mnist 54,000 images,
kmnist 6,310, digits about 1,300): by H a tenth of an epoch to about five. At 1,000 a class a
task holds 5,000 images and a life covers 1.3 epochs of it; classes with fewer examples (digits
about 130 a class, kmnist about 630) are drawn with replacement, so the tasks span about 2 to 10
epochs a life by dataset. The inner step's cost is unchanged (its batches and validation batch
are the same size); only the host's draw of a task grows. No held-out image is read. A research
config, judged by research/lopt/PROTOCOL.md's *System* rule.
"""

from research.lopt.configs import scheduled

PER_CLASS = 1000


def get_config():
    config = scheduled.get_config()
    config.task.per_class = PER_CLASS
    return config
