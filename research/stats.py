"""The statistics every claim uses (research/PROTOCOL.md): paired over meta-training runs.

    diffs = [[m - b for m, b in zip(method[r], baseline[r])] for r in runs]   # per run, per seed
    paired_t(run_means(method), run_means(baseline))     # t-test over runs
    hierarchical_bootstrap(diffs)                         # runs, then seeds within each run
    holm([p1, p2, p3])                                    # the comparisons of one claim
"""

from __future__ import annotations

import numpy as np


def run_means(per_run_seeds) -> np.ndarray:
    """Each run's mean over its training seeds: the unit of a paired comparison."""
    return np.array([np.mean(seeds) for seeds in per_run_seeds], np.float64)


def paired_t(method, baseline) -> dict:
    """Paired t-test over runs (two-sided): the mean difference, its standard error, t and p."""
    from scipy.stats import ttest_rel

    method, baseline = np.asarray(method, np.float64), np.asarray(baseline, np.float64)
    if method.shape != baseline.shape or len(method) < 2:
        raise ValueError(f"a paired test needs two equal-length lists of at least 2 runs, got "
                         f"{method.shape} and {baseline.shape}")
    diff = method - baseline
    if np.all(diff == diff[0]):  # no spread (e.g. one cell on both sides): scipy's t is nan or inf
        return {"runs": len(diff), "mean_difference": float(diff[0]), "se": 0.0,
                "t": 0.0 if diff[0] == 0 else float(np.sign(diff[0]) * np.inf), "p": 1.0 if diff[0] == 0 else 0.0}
    test = ttest_rel(method, baseline)
    return {"runs": len(diff), "mean_difference": float(diff.mean()),
            "se": float(diff.std(ddof=1) / np.sqrt(len(diff))), "t": float(test.statistic),
            "p": float(test.pvalue)}


def hierarchical_bootstrap(diffs_per_run, resamples: int = 10_000, seed: int = 0) -> dict:
    """95% interval of the mean paired difference, resampling runs and then each drawn run's
    seeds (both with replacement); ``p_two_sided`` is twice the smaller tail beyond 0."""
    rng = np.random.default_rng(seed)
    runs = [np.asarray(d, np.float64) for d in diffs_per_run]
    if len(runs) < 2 or any(len(d) < 1 for d in runs):
        raise ValueError("the bootstrap needs at least 2 runs, each with at least one seed")
    draws = np.empty(resamples)
    for i in range(resamples):
        picked = rng.integers(len(runs), size=len(runs))
        draws[i] = np.mean([rng.choice(runs[r], len(runs[r])).mean() for r in picked])
    point = float(np.mean([d.mean() for d in runs]))
    tail = min(np.mean(draws <= 0), np.mean(draws >= 0))
    return {"mean_difference": point, "lo95": float(np.percentile(draws, 2.5)),
            "hi95": float(np.percentile(draws, 97.5)), "p_two_sided": float(min(1.0, 2 * tail)),
            "resamples": resamples}


def holm(pvalues, alpha: float = 0.05) -> list[dict]:
    """Holm's step-down correction: each p adjusted, and whether it is rejected at ``alpha``
    family-wise, in the input order."""
    p = np.asarray(pvalues, np.float64)
    order = np.argsort(p)
    adjusted = np.empty_like(p)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        adjusted[i] = running
    return [{"p": float(p[i]), "p_holm": float(adjusted[i]), "rejected": bool(adjusted[i] <= alpha)}
            for i in range(len(p))]
