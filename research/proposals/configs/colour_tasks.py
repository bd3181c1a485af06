"""The recommended recipe on a wider task family: colour and texture tasks made from the grey
meta-training datasets (issues #36 and #38, hypothesis 2; a research config).

    DIMO_DATA_DIR=../shared/data python -m research.comparison.meta_validate --variant v2_colour_200 \\
        --config research/proposals/configs/colour_tasks.py --fold kmnist --seed 0 -- --config.meta.steps=200 --noprogress

Half the tasks become colour tasks (an ink and a paper colour per task, jittered per image), and
half of those have a smooth random colour field as paper (``dimo.meta.task_transforms``); no
held-out image is read. Pre-registered as ``v2_colour_200`` in research/comparison/README.md
before its runs; it replaces the recommended recipe only if its meta-validation figure is higher.
"""

from dimo.configs import recommended

TRANSFORMS = "colour:0.5,texture:0.5"


def get_config():
    config = recommended.get_config()
    config.task.transforms = TRANSFORMS
    return config
