"""DiMO: a meta-learned, end-to-end differentiable AutoML system in JAX.

Meta-training learns, by gradient descent, a map from a dataset to a trained network: a
dataset embedding reads a support set, a decoder gives soft NAS-Bench-201 architecture
weights and training hyperparameters, a relaxed supernet with them is trained K steps by a
learned optimizer on a learned teacher loss, and the validation loss after training is
differentiated back to every meta-parameter. The layers, bottom to top::

    datasets_meta     datasets, samplers                 (imports nothing of dimo)
    dimo.infra        workdirs, locks, integrity, guards, faults, runtime
    dimo.space        cells, operations, supernet, costs, relaxations
    dimo.inner        Recipe/Task, unroll, learned optimizer, teacher loss, truncation
    dimo.meta         embedding, decoder, system, meta-training, proposals
    dimo.evaluation   train a cell and measure it; the cell tables (the judges)
    dimo.search       every search method, DiMO's own among them, behind one registry
    dimo.studies      ablation and comparison studies
    dimo.cli          the ``dimo`` command

The public API (each call imports JAX and the layers it needs only when made):

>>> import dimo
>>> system = dimo.load_system("runs/first")              # a train_meta.py workdir
>>> proposal = system.propose("digits")                  # genotype + recipe, no training
>>> result = dimo.evaluate(proposal["genotype"], "digits", steps=100)
>>> print(proposal["genotype"], result["test_accuracy"])
"""

from __future__ import annotations

import dataclasses

__version__ = "0.1.0"
__all__ = ["System", "evaluate", "load_system", "meta_train", "search"]


def meta_train(config="default", workdir=None, datasets: str | None = None, data_dir=None, **options) -> dict:
    """Meta-trains DiMO (``train_meta.py``'s job); returns the run's summary.

    ``config``: a name in ``dimo.configs`` (``default``, ``smoke``, ``gpu``) or a ConfigDict;
    ``options``: ``resume``, ``overwrite``, ``progress`` of ``dimo.meta.meta_train.run``.
    """
    import importlib
    import time

    from dimo.meta import meta_train as meta_train_lib

    if isinstance(config, str):
        config = importlib.import_module(f"dimo.configs.{config}").get_config()
    if datasets:
        config.datasets = datasets
    workdir = workdir or f"runs/{time.strftime('%Y%m%d-%H%M%S')}"
    return meta_train_lib.run(config, workdir, data_dir=data_dir, **options)


@dataclasses.dataclass(frozen=True)
class System:
    """A meta-trained DiMO, loaded from one or several workdirs (seeds of one config)."""

    runs: tuple

    def propose(self, dataset: str, data_dir=None, seed: int = 0) -> dict:
        """Genotype, edge x op probabilities, learning-rate scale and weight decay for
        ``dataset`` (a registry name or ``folder:/path``), in seconds: no training."""
        from dimo.meta import propose as propose_lib

        result = propose_lib.propose_from_runs(list(self.runs), dataset, data_dir, seed)
        self.runs[0].warn_if_seen(result["dataset"])
        return result

    @property
    def meta_training_datasets(self) -> list[str]:
        return [n.strip() for n in self.runs[0].config.datasets.split(",") if n.strip()]


def load_system(*workdirs) -> System:
    """The meta-trained system of a ``train_meta.py`` workdir (or of several seeds of one
    config: proposals then come from their mean decoded mixture)."""
    from dimo.meta import trained

    return System(tuple(trained.load_runs(workdirs)))


def evaluate(genotype: str, dataset: str, steps: int = 1000, data_dir=None, seed: int = 0,
             optimizer: str = "sgd", learning_rate: float | None = None) -> dict:
    """Trains ``genotype`` from scratch on ``dataset`` (the network of the default config) and
    measures it on the whole validation and test splits (``dimo evaluate``)."""
    from datasets_meta import load
    from dimo.configs import default
    from dimo.evaluation import evaluate as evaluate_lib
    from dimo.space.search_space import Genotype

    config = default.get_config()
    rate = learning_rate or (0.1 if optimizer == "sgd" else 3e-3)
    setup = evaluate_lib.setup_for(config, steps=steps, optimizer=optimizer, loss="ce", learning_rate=rate,
                                   seed=seed)
    data = load(dataset, data_dir, image_size=config.data.image_size)
    return evaluate_lib.train_genotype(Genotype.from_string(genotype), data, setup, progress=False)


def search(method: str, dataset: str, budget_s: float | None = None, steps: int = 300, seed: int = 0,
           data_dir=None):
    """One search method of ``dimo.search.registry`` on ``dataset``; a ``SearchResult``."""
    from datasets_meta import load
    from dimo.configs import default
    from dimo.search import discrete, registry

    config = default.get_config()
    setup = discrete.SearchSetup.from_config(config, steps=steps, seed=seed, budget_s=budget_s)
    return registry.run(method, load(dataset, data_dir, image_size=config.data.image_size), setup)
