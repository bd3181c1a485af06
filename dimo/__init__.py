"""DiMO: a meta-learned, end-to-end differentiable AutoML system in JAX.

The data flow, one module per step: ``datasets_meta`` (support sets, minibatches) ->
``dataset_embedding`` -> ``decoder`` -> architecture weights [6, 5] + hyperparameters ->
``supernet`` trained K steps by ``learned_optimizer`` on ``teacher_loss`` (``unroll``) ->
validation loss -> meta-gradient (``meta_train``).
"""

__version__ = "0.1.0"
