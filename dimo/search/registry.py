"""Every search method, DiMO's own included, behind one call: ``run(name, dataset, setup)``.

Each returns a ``dimo.search.base.SearchResult``. A new method is a new module with a
``search(dataset, setup)`` and a line in ``_searches``. DiMO's methods (``propose``, the
meta-trained system's decoded cell, and ``propose-verify``, its most probable cells checked
by successive halving) also need ``runs``, the meta-trained runs that answer.
"""

from __future__ import annotations

# Names only, importable without JAX (argument parsing, --help).
GRADIENT_METHODS = ("darts", "darts2", "gdas", "drnas", "sdarts", "darts-pt")
DISCRETE_METHODS = ("random", "evolution", "hyperband", "tpe", "nao")
METHODS = DISCRETE_METHODS[:1] + GRADIENT_METHODS + DISCRETE_METHODS[1:]  # need no meta-trained system
DIMO_METHODS = ("propose", "propose-verify")


def _searches() -> dict:
    import functools

    from dimo.search import darts, darts_pt, dimo_method, discrete, drnas, evolution, gdas, hyperband, nao, sdarts, tpe

    return {"random": discrete.random_search,
            "darts": functools.partial(darts.search, order=1),
            "darts2": functools.partial(darts.search, order=2),
            "gdas": gdas.search, "drnas": drnas.search, "sdarts": sdarts.search,
            "darts-pt": darts_pt.search,
            "evolution": evolution.search, "hyperband": hyperband.search, "tpe": tpe.search, "nao": nao.search,
            "propose": dimo_method.propose, "propose-verify": dimo_method.propose_and_verify}


def run(name: str, dataset, setup, **options):
    """``name``'s search on ``dataset`` under ``setup`` (a ``dimo.search.discrete.SearchSetup``);
    ``options`` go to DiMO's methods only (``runs``, ``data_dir``, ``rank``, ``verify``, ``verify_steps``)."""
    from dimo.search.base import SearchResult

    if name not in METHODS + DIMO_METHODS:
        raise ValueError(f"unknown search method {name!r}; choose from {', '.join(METHODS + DIMO_METHODS)}")
    search = _searches()[name]
    result = search(dataset, setup, **options) if name in DIMO_METHODS else search(dataset, setup)
    return result if isinstance(result, SearchResult) else SearchResult.from_dict(result)
