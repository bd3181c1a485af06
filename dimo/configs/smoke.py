"""Smallest config that exercises every part; used by the tests.

    python train_meta.py --config configs/smoke.py --workdir /tmp/dimo_smoke
"""

from dimo.configs import default


def get_config():
    config = default.get_config()
    config.data.image_size = 8
    config.task.update(classes_per_task=3, per_class=8, support_shots=2)
    config.model.update(channels=4)
    # On the teacher loss, not the default's cross-entropy: the suite then meta-trains the whole
    # mission's chain end to end, the teacher included.
    config.inner.update(steps=3, batch_size=8, val_batch_size=16, loss="teacher")
    config.lopt.hidden_size = 4
    config.teacher.hidden_size = 4
    config.embedding.update(feature_size=8, code_size=8, num_heads=2)
    config.decoder.hidden_size = 8
    config.meta.update(steps=6, tasks_per_step=4, checkpoint_every=2)
    return config
