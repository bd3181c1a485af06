"""#38's truncation-bias hypothesis: ``ten_life1000`` with the decoded rate's meta-gradient taken
over each network's whole life.

    DIMO_DATA_DIR=../shared/data python -m research.lopt.meta_validate --variant ten_life1000_shadow \
        --config research/lopt/configs/shadow_rate.py --fold kmnist --seed 0 --diagnostic 10H

``long_life.py`` (1,000-step lives) with ``inner.rate_gradient = "shadow"``
(``dimo.inner.shadow_rate``): the gradient of each segment's validation loss with respect to the
log of the decoded ``lr_scale`` counts what the rate did to the network over the segments before
it in the same life (from a shadow network trained at a 5 % higher rate), where truncated
backpropagation counts the segment's 10 steps alone. Every other meta-gradient stays truncated;
nothing else changes. Why: after the 1,000-step life the decoded ``lr_scale`` fell to 0.34-0.45
against 1.9-2.8 after 200-step lives, and at the judged run's rate the long-lived optimizer cut
its 10H loss gap to Adam from +0.090 to +0.033 (research/lopt/README.md: ``ten_life1000`` and the
rate swap), which is what the short-horizon bias of truncated meta-gradients would do. A research
config measured by research/lopt/README.md's pre-registration of ``ten_life1000_shadow``; no
held-out image is read.
"""

from research.lopt.configs import long_life


def get_config():
    config = long_life.get_config()
    config.inner.rate_gradient = "shadow"
    return config
