"""Test-only numerical fault injection: NaN/Inf at chosen places of chosen meta-steps.

Meta-training must survive a non-finite meta-gradient (skip it, count it, go on; stop
with a good checkpoint after too many in a row). To prove it, the reliability tests set
``config.debug.inject_faults``, e.g. ``"2:inner_gradient,3:batch,7-9:optimizer_output"``,
and the host marks every task of those meta-steps with a fault code (``Task.fault``).
Inside the inner loop, ``inject`` replaces a value by a non-finite one where the task's
code names that site:

* ``inner_gradient``: the student's gradient at every inner step becomes NaN;
* ``batch``: the normalised training images become +Inf (a corrupt data batch);
* ``optimizer_output``: the inner optimizer's update becomes NaN.

The code is data, so one compiled program serves every meta-step of a faulty run; with
code 0 every ``inject`` is an identity. Whether the hook exists at all is static
(``InnerConfig.inject_faults``, set when ``debug.inject_faults`` is non-empty): a run
without faults compiles a program without the selects.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

NONE = 0
SITES = {"inner_gradient": 1, "batch": 2, "optimizer_output": 3}
_VALUES = {"inner_gradient": jnp.nan, "batch": jnp.inf, "optimizer_output": jnp.nan}


def inject(tree, site: str, code):
    """``tree`` with every leaf non-finite where ``code`` is ``site``'s code, else unchanged."""
    hit = code == SITES[site]
    return jax.tree.map(lambda x: jnp.where(hit, jnp.asarray(_VALUES[site], x.dtype), x), tree)


def parse_schedule(text: str) -> dict[int, int]:
    """'2:batch,5-7:inner_gradient' -> {meta-step: fault code}; '' -> {} (no faults)."""
    schedule = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        steps, sep, site = item.partition(":")
        first, _, last = steps.partition("-")
        if not sep or site not in SITES or not first.isdigit() or not (last or first).isdigit():
            raise ValueError(f"debug.inject_faults entry {item!r} must be STEP[-STEP]:SITE with SITE "
                             f"one of {', '.join(SITES)}")
        for step in range(int(first), int(last or first) + 1):
            schedule[step] = SITES[site]
    return schedule
