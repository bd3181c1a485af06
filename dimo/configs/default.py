"""Default, CPU-sized meta-training on scikit-learn's bundled digits (no download).

    python train_meta.py
    python train_meta.py --config configs/default.py --config.meta.steps=200   # longer
    DIMO_DATA_DIR=../shared/data python train_meta.py --datasets mnist,fashion_mnist,cifar10

Class-subset tasks (5 of a dataset's classes), a C=8, one-cell-per-stage supernet on
16x16 images, K=10 inner steps with the learned optimizer on cross-entropy. The mission's learned
teacher loss is one switch away (``--config.inner.loss=teacher``); it is off by default because it
cost accuracy against cross-entropy under research/lopt/PROTOCOL.md (behind in 24 of 30 rows, mean
-0.0090 test accuracy, results/lopt_leave_one_out/summary.json) and the recipe on cross-entropy
meta-validated higher (results/comparison/meta_validation.jsonl, ``v0_ce_200+rank9``).
"""

import ml_collections


def get_config() -> ml_collections.ConfigDict:
    config = ml_collections.ConfigDict()
    config.seed = 0
    config.datasets = "digits"  # comma-separated names; --datasets overrides

    config.data = dict(image_size=16, channels=3, val_fraction=0.1)
    # Each task: `classes_per_task` classes, `per_class` train and val examples of each,
    # the first `support_shots` of each class as the support set the embedding reads.
    config.task = dict(classes_per_task=5, per_class=40, support_shots=5)
    config.model = dict(channels=8, cells_per_stage=1, affine=False)
    # lifetime: inner steps a task slot's network persists across meta-steps, K more each
    # meta-step, staggered restarts (dimo.inner.truncation); 0: a fresh network every meta-step.
    # loss: "ce" or "teacher" (the learned teacher loss, dimo.inner.teacher_loss); see the docstring.
    config.inner = dict(steps=10, lifetime=0, batch_size=32, val_batch_size=100, optimizer="learned",
                        loss="ce", learning_rate=0.1, momentum=0.9, remat=True)
    # base: the direction the learned optimizer corrects, "momentum" or "adam" (dimo.inner.learned_optimizer).
    config.lopt = dict(hidden_size=8, init_lr=1.0, base="momentum", max_step=0.3)
    config.teacher = dict(hidden_size=16)
    config.embedding = dict(feature_size=32, code_size=32, num_heads=4)
    # lr_scale is bounded: past ~3x the K-step unroll turns chaotic and meta-gradients explode.
    # relaxation: how meta-training runs the supernet on the decoded logits: "softmax" (the
    # mixture), "gumbel" (one sampled cell per task, straight-through) or "dirichlet" (one
    # reparameterised Dirichlet draw of the mixture per task, DrNAS); dimo.space.relaxations.
    config.decoder = dict(hidden_size=64, temperature=1.0, max_lr_scale=3.0, max_weight_decay=1e-3,
                          relaxation="softmax")
    config.meta = dict(
        steps=50,  # a first look; research configs run longer
        tasks_per_step=2,  # a multiple of the number of devices
        learning_rate=1e-3,
        # Rates of their own for some groups, e.g. "optimizer:1e-2,teacher:1e-2" (the others:
        # learning_rate); groups: decoder, embedding, optimizer, teacher.
        group_learning_rates="",
        clip_norm=1.0,
        # Meta-steps over which every rate decays to 0 along a cosine; 0: constant rates.
        lr_decay_steps=0,
        num_devices=0,  # 0 = all available
        checkpoint_every=20,
        max_consecutive_bad=10,
    )
    # Test-only: NaN/Inf injected at given meta-steps, e.g. "2:batch,5-7:inner_gradient"
    # (sites: inner_gradient, batch, optimizer_output; see dimo/infra/faults.py).
    config.debug = dict(inject_faults="")
    # Experiment switches (their off values, and what each does): dimo.meta.config.SWITCHES_OFF.
    return config
