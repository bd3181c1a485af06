"""Every search method ``dimo search --method`` knows, behind one call: ``run(name, dataset, setup)``.

Each returns the same dict: ``method``, ``genotype`` (the selected cell), ``steps`` (inner
steps trained), ``search_s`` (wall clock, compile included), ``budget_s``, and where the
method scores discrete cells, ``candidates`` (every evaluation) and ``curve`` (best-so-far
validation accuracy against seconds). A new method is a new module with a
``search(dataset, setup)`` and a line here.
"""

from __future__ import annotations

# Names only, importable without JAX (argument parsing, --help).
GRADIENT_METHODS = ("darts", "darts2", "gdas", "drnas", "sdarts", "darts-pt")
DISCRETE_METHODS = ("random", "evolution", "hyperband", "tpe")
METHODS = DISCRETE_METHODS[:1] + GRADIENT_METHODS + DISCRETE_METHODS[1:]


def run(name: str, dataset, setup) -> dict:
    """``name``'s search on ``dataset`` under ``setup`` (a ``dimo.search.discrete.SearchSetup``)."""
    import functools

    from dimo.search import discrete as baselines

    from dimo.search import darts

    from dimo.search import darts_pt

    from dimo.search import drnas

    from dimo.search import evolution

    from dimo.search import gdas

    from dimo.search import hyperband

    from dimo.search import sdarts

    from dimo.search import tpe

    searches = {"random": baselines.random_search,
                "darts": functools.partial(darts.search, order=1),
                "darts2": functools.partial(darts.search, order=2),
                "gdas": gdas.search, "drnas": drnas.search, "sdarts": sdarts.search,
                "darts-pt": darts_pt.search,
                "evolution": evolution.search, "hyperband": hyperband.search, "tpe": tpe.search}
    if name not in searches:
        raise ValueError(f"unknown search method {name!r}; choose from {', '.join(METHODS)}")
    return searches[name](dataset, setup)
