"""TPE (Bergstra et al., 2011) over the six edges' ops, with Optuna's sampler.

Each trial asks Optuna for one op per edge (a categorical parameter per edge), trains the
cell on the shared scorer and tells Optuna its validation accuracy. A disconnected cell
outputs a constant whatever its input, so it is told chance accuracy without training:
TPE learns to avoid such cells at no training cost.
"""

from __future__ import annotations

import optuna

from datasets_meta import Dataset
from dimo.search import discrete
from dimo.search.budget import OutOfBudget
from dimo.space import search_space


def tpe(score, num_classes: int, seed: int, startup_trials: int = 10) -> optuna.Study:
    """Trials until ``score(genotype)`` raises ``OutOfBudget``; returns the study."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    while True:
        trial = study.ask()
        genotype = search_space.Genotype(tuple(trial.suggest_categorical(f"edge_{t}_{s}", search_space.OPS) for t, s in search_space.EDGES))
        try:
            value = score(genotype) if genotype.connected else 1.0 / num_classes
        except OutOfBudget:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return study
        study.tell(trial, value)


def search(dataset: Dataset, setup: discrete.SearchSetup) -> dict:
    scorer = discrete.budgeted_scorer(dataset, setup, setup.evaluations_without_budget)
    study = tpe(lambda g: scorer(g, setup.steps_per_candidate), dataset.num_classes, setup.seed)
    return scorer.result("tpe", trials=len(study.trials))
