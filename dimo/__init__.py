"""DiMO: a meta-learned, end-to-end differentiable AutoML system in JAX.

Meta-training learns, by gradient descent, a map from a dataset to a trained network: a
dataset embedding reads a support set, a decoder gives soft NAS-Bench-201 architecture
weights and training hyperparameters, a relaxed supernet with them is trained K steps by a
learned optimizer on cross-entropy (the learned teacher loss is a switch, ``inner.loss``, off
by default since it cost accuracy under #38's protocol), and the validation loss after training is
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
>>> system = dimo.load_system()                          # the pretrained DiMO in the package
>>> proposal = system.propose("digits")                  # genotype + recipe, no training
>>> model = dimo.train(proposal, "digits", "digits_model", budget_s=120)
>>> probabilities = model.predict(images)                # uint8 [N, H, W, C]
"""

from __future__ import annotations

import dataclasses

__version__ = "0.1.0"
__all__ = ["System", "evaluate", "load_model", "load_system", "meta_train", "search", "train"]


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

    def propose(self, dataset: str, data_dir=None, seed: int = 0, rank: int | None = None) -> dict:
        """Genotype, edge x op probabilities, learning-rate scale and weight decay for
        ``dataset`` (a registry name or ``folder:/path``), in seconds: no training. The cell is
        the predictor's best of the ``rank`` most probable (``dimo propose --rank``; default
        ``predictor.RANK``, 9; 0: the decoded cell)."""
        from dimo.search import predictor

        result = predictor.propose(self.runs, dataset, data_dir, seed, rank=rank)
        self.runs[0].warn_if_seen(result["dataset"])
        return result

    @property
    def meta_training_datasets(self) -> list[str]:
        return [n.strip() for n in self.runs[0].config.datasets.split(",") if n.strip()]


def load_system(*workdirs) -> System:
    """The meta-trained system of a ``train_meta.py`` workdir (or of several seeds of one
    config: proposals then come from their mean decoded mixture); without one, the system
    shipped in the package."""
    from dimo.meta import trained

    if not workdirs:
        return System((trained.load(trained.pretrained_workdir()),))
    return System(tuple(trained.load_runs(workdirs)))


def train(cell, dataset: str, out, budget_s: float | None = None, epochs: int | None = None,
          preset: str = "small", data_dir=None, resume: bool = False, progress: bool = True,
          system: System | None = None, **overrides):
    """Trains ``cell`` into the model directory ``out`` (``dimo train``) and returns the model.

    ``cell``: a genotype string, or a proposal (``System.propose``'s dict: its genotype, trained
    with its learning-rate scale and weight decay). ``preset``: ``small`` or ``nas-bench-201``
    (``dimo.final.config``), with ``overrides`` of its fields (``channels=32``, ``optimizer="adam"``);
    ``optimizer="learned"`` uses ``system``'s learned optimizer (default: the shipped system's).
    """
    from datasets_meta import load
    from dimo.evaluation.evaluate import learned_configs
    from dimo.final import config, model, train as train_lib
    from dimo.space.search_space import Genotype

    proposal = cell if isinstance(cell, dict) else {"genotype": cell}
    cfg = config.preset(preset, epochs=epochs, **overrides)
    meta = lopt_cfg = None
    if cfg.optimizer == "learned":
        run = (system or load_system()).runs[0]
        meta, lopt_cfg = run.params["optimizer"], learned_configs(run.config)[0]
    data = load(dataset, data_dir, image_size=cfg.image_size)
    train_lib.train(Genotype.from_string(proposal["genotype"]), data, cfg, out, budget_s=budget_s,
                    lr_scale=proposal.get("lr_scale", 1.0), weight_decay=proposal.get("weight_decay"),
                    meta=meta, lopt_cfg=lopt_cfg, resume=resume, progress=progress,
                    source={"proposal": {k: proposal[k] for k in ("genotype", "lr_scale", "weight_decay")
                                         if k in proposal}})
    return model.load(out)


def load_model(path):
    """A model directory written by ``dimo train``: ``.predict(images)`` gives class probabilities."""
    from dimo.final import model

    return model.load(path)


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
