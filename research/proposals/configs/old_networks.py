"""The recommended recipe meta-trained on long-lived networks, each scored by its age (#36,
hypothesis 1: a meta-loss weighted toward old networks; a research config).

    DIMO_DATA_DIR=../shared/data python -m research.comparison.meta_validate --variant v4_old_200 \\
        --config research/proposals/configs/old_networks.py --fold kmnist --seed 0 -- --noprogress

Each task slot's network lives 200 inner steps (20 meta-steps of K = 10, staggered restarts,
``dimo.inner.truncation``), and a slot's meta-loss is weighted by the age its network is scored
at, ``2 (age + K) / (lifetime + K)``: 1 on average over a life, 20 times more at 200 steps than
at 10 (``inner.age_weighted``). The recipe scores every network after K steps from scratch,
which rewards what learns fastest; the judge scores networks after 4,000 steps. Nothing else
changes (softmax relaxation, cross-entropy, 200 meta-steps, proposed with ``--rank 9``) but what
the lifetime sets with it: the teacher's progress runs over the life, unused on cross-entropy.
Pre-registered as ``v4_old_200`` in research/comparison/README.md before its runs; it replaces
the recommended recipe only if its meta-validation figure is higher.
"""

from dimo.configs import recommended

LIFETIME = 200


def get_config():
    config = recommended.get_config()
    config.inner.lifetime = LIFETIME
    config.inner.age_weighted = True
    return config
