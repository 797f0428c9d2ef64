"""Checkpoint tables (several rows per run): the transformations applied before a fit.

- :func:`drop_warmup`: drop the first fraction of each run's checkpoints (warm-up), counted in
  ``Runs.dropped``; :func:`bayes_scaling.fit` does it by default (``drop_first=0.1``);
- :func:`to_s_min`: Kaplan et al. 2020's minimum steps ``S_min = S / (1 + B_crit(L)/B)`` (Eq. 5.4),
  the input of the ``kaplan_ns`` law.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.errors import InputError
from .drops import record_drop
from .runs import Runs

__all__ = ["drop_warmup", "to_s_min"]


def drop_warmup(runs: Runs, fraction: float = 0.1, *, by: str = "step") -> Runs:
    """Drop the first ``fraction`` of each run's checkpoints (by ``step``), recorded with the reason.

    Runs with a single row are kept whole. Returns a new :class:`Runs`; the
    rows kept keep their original labels and order.
    """
    if not 0 <= fraction < 1:
        raise InputError(f"fraction must be in [0, 1), got {fraction}")
    data = runs.data
    if fraction == 0 or "run" not in data.columns:
        return runs
    keys = data["run"].astype(str)
    size = keys.map(keys.value_counts())
    if not (size > 1).any():  # one row per run (final losses keyed by run name): no warm-up to drop
        return runs
    if by not in data.columns:
        raise InputError(f"dropping the first {fraction:.0%} of each run needs column {by!r}")
    rank = data.groupby(keys)[by].rank(method="first") - 1
    drop = (size > 1) & (rank < np.floor(fraction * size))
    if not drop.any():
        return runs
    reason = f"checkpoint warm-up: the first {fraction:.0%} of each run's steps (drop_first)"
    return record_drop(replace(runs, data=data.loc[~drop.to_numpy()]), reason, data.index[drop.to_numpy()].tolist())


def to_s_min(runs, *, alpha_B: float = 0.21, Bstar: float = 2.1e8):
    """Runs with ``step`` replaced by Kaplan's S_min = S / (1 + B_crit(L)/B) (Eq. 5.4).

    Needs the batch size ``B`` (tokens) and the observed ``loss`` of each
    checkpoint; ``B_crit(L) = Bstar / L^(1/alpha_B)`` with Kaplan's constants
    by default (Table 5), or those of your own ``kaplan_bcrit`` fit. The
    change is recorded in ``runs.derived["step"]``; fit ``kaplan_ns`` on the result.
    """
    for col in ("B", "step", "loss"):
        if not runs.has(col):
            raise InputError(f"S_min needs column {col!r} (batch size B in tokens, step, loss)")
    b_crit = Bstar / runs.values("loss") ** (1 / alpha_B)
    data = runs.data.copy()
    data["step"] = runs.values("step") / (1 + b_crit / runs.values("B"))
    note = f"S_min = step / (1 + B_crit(loss)/B), B_crit = {Bstar:g} / loss^(1/{alpha_B:g})"
    return replace(runs, data=data, derived={**runs.derived, "step": note})
