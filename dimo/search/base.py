"""What every search method returns, DiMO's own included: one typed ``SearchResult``.

A method is a function ``search(dataset, setup, **options) -> SearchResult`` registered in
``dimo.search.registry``; ``dimo search`` and ``dimo compare`` reach every method, DiMO's
proposal among them, through that registry alone.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """The cell a method selected and what the selection cost.

    ``arch_weights`` is the final mixture of a gradient-based method or DiMO (a [6, 5] list),
    one-hot for discrete methods; ``candidates`` and ``curve`` are the discrete methods'
    evaluations and best-so-far validation accuracy over seconds; ``extra`` holds what one
    method alone reports (e.g. DARTS's final architecture rate, DiMO's decoded recipe).
    """

    method: str
    genotype: str
    steps: int  # inner (weight) steps trained by the search, all candidates together
    search_s: float  # wall clock, compile included
    budget_s: float | None = None
    arch_weights: list | None = None
    candidates: list | None = None
    curve: dict | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, result: dict) -> SearchResult:
        """From a method's flat result dict: the known fields, the rest into ``extra``."""
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        return cls(**{k: v for k, v in result.items() if k in names},
                   extra={k: v for k, v in result.items() if k not in names})

    def to_dict(self) -> dict:
        """Flat, as ``dimo search --json`` prints it (fields left unset are omitted)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**{k: v for k, v in out.items() if v is not None}, **self.extra}
