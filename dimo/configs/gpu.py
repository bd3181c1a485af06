"""Paper-sized meta-training for accelerators: 32x32, C=16, longer unrolls.

    python train_meta.py --config configs/gpu.py --datasets cifar10,svhn,fashion_mnist
    python train_meta.py --config configs/gpu.py --distributed   # multi-host, after setup

On one CPU a meta-step at these sizes takes minutes; use configs/default.py there.
"""

from dimo.configs import default


def get_config():
    config = default.get_config()
    config.datasets = "cifar10,svhn,fashion_mnist,kmnist"
    config.data.image_size = 32
    config.task.update(classes_per_task=10, per_class=200, support_shots=10)
    config.model.update(channels=16, cells_per_stage=1)
    config.inner.update(steps=50, batch_size=64, val_batch_size=256)
    config.meta.update(steps=2000, tasks_per_step=8, checkpoint_every=100)
    return config
