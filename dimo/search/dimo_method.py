"""DiMO as one more search method: a meta-trained system's answer for a dataset.

``propose`` is the decoded cell of the meta-trained runs, with ``rank`` its most probable cells
reranked by the predictor (``dimo.search.predictor``; no search; its seconds are the proposal's own
wall time). ``propose_and_verify`` trains DiMO's ``verify`` most probable cells
by successive halving on the target's validation split (``dimo.search.verify``); its seconds
are the proposal's and the verification's together.
"""

from __future__ import annotations

import time

from dimo.search import verify as verify_lib
from dimo.search import predictor
from dimo.search.predictor import RANK
from dimo.search.base import SearchResult


def _proposal(dataset, runs, data_dir, rank=0, dataset_spec=None):
    if not runs:
        raise ValueError("DiMO's methods need meta-trained runs (runs=[...], e.g. --workdir)")
    start = time.perf_counter()
    # The name the dataset was asked by: a folder's loaded name is only its stem.
    proposal = predictor.propose(runs, dataset_spec or dataset.name, data_dir, rank=rank)
    return proposal, time.perf_counter() - start


def propose(dataset, setup, runs=(), data_dir=None, rank: int = RANK, dataset_spec=None, **_) -> SearchResult:
    proposal, seconds = _proposal(dataset, runs, data_dir, rank, dataset_spec)
    return SearchResult("propose", proposal["genotype"], 0, seconds, setup.budget_s, proposal["arch_weights"],
                        extra={"lr_scale": proposal["lr_scale"], "weight_decay": proposal["weight_decay"],
                               **({"ranked": proposal["ranked"]} if rank else {})})


def propose_and_verify(dataset, setup, runs=(), data_dir=None, verify: int = 9, verify_steps: int = 100,
                       dataset_spec=None, **_) -> SearchResult:
    proposal, _ = _proposal(dataset, runs, data_dir, dataset_spec=dataset_spec)
    checked = verify_lib.verify(proposal["arch_weights"], dataset, verify, setup, min_steps=verify_steps)
    return SearchResult("propose-verify", checked["genotype"], checked["steps"],
                        proposal["wall_s"] + checked["verify_s"], setup.budget_s, proposal["arch_weights"],
                        extra={"verified": checked})
