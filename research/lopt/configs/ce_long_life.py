"""#38's lead after the head-off result: ``ten_life1000_shadow`` meta-trained and run on cross-entropy.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant ce_life1000_shadow \
        --config research/lopt/configs/ce_long_life.py --fold kmnist --seed 0 --diagnostic 10H

``shadow_rate.py`` (1,000-step lives, the decoded rate's meta-gradient over the whole life) with
``inner.loss = "ce"``: the optimizer is meta-trained on, and trains with, cross-entropy instead of
the learned teacher; nothing else changes. Why: read from the second judged run's units after the
head-off result (research/lopt/README.md, *The head off*), the judged optimizer run on
cross-entropy is 0.009 above meta-tuned Adam in 10H validation loss where on the teacher it is
0.052, so the 10H loss gap the long-life studies chased is mostly the teacher's, and those studies
all kept the teacher. What is left on cross-entropy is a 10H accuracy gap (-0.0027 over 8 pairs).
A research config measured by research/lopt/README.md's pre-registration of
``ce_life1000_shadow``; chooses nothing, judged by nothing; no held-out image is read.
"""

from research.lopt.configs import shadow_rate


def get_config():
    config = shadow_rate.get_config()
    config.inner.loss = "ce"
    return config
