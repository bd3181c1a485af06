"""Real image-classification datasets behind one interface, for meta-learning across them.

>>> from datasets_meta import load
>>> ds = load("digits", image_size=16)          # bundled with scikit-learn: works anywhere
>>> ds.num_classes, ds.image_shape
(10, (16, 16, 3))

See ``registry`` for the names and the order in which sources are tried, ``samplers`` for
minibatches, support sets and class-subset tasks, and ``python -m datasets_meta.inspect``.
"""

from datasets_meta.base import DatasetError
from datasets_meta.dataset import Dataset
from datasets_meta.registry import display_name, known_names, load
from datasets_meta.samplers import Split, normalize, sample_batch, sample_classes, sample_task_batch, support_set

__all__ = ["Dataset", "DatasetError", "Split", "display_name", "known_names", "load", "normalize",
           "sample_batch", "sample_classes", "sample_task_batch", "support_set"]
