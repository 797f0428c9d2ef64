"""How a backtest splits the runs: the largest values of a numeric column held out, or one family at a time.

:func:`split_runs` returns ``({fold: (train, held_out)}, info)`` for :func:`bayes_scaling.backtest`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..data.runs import Runs

__all__ = ["split_runs"]

_SPLITS = {"compute": "C", "C": "C"}


def split_runs(runs: Runs, split: str = "compute", holdout=0.2) -> tuple[dict[str, tuple[Runs, Runs]], dict]:
    """Split runs for :func:`backtest`: ``({fold: (train, held_out)}, info)``.

    See :func:`backtest` for ``split`` and ``holdout``. Raises ``ValueError`` for an
    unknown column, a bad ``holdout``, or a split leaving either side empty.
    """
    if split == "group":
        return _split_groups(runs, holdout)
    column = _SPLITS.get(split, split)
    if not runs.has(column) or column in ("group", "run"):
        numeric = [c for c in ("C", "N", "D", "step", "B", "U") if runs.has(c)]
        raise InputError(f"split={split!r}: the runs have no numeric column {column!r}; "
                         f"split by one of {numeric} or 'group'")
    values = runs.values(column).astype(float)
    if isinstance(holdout, bool) or not isinstance(holdout, (int, float, np.integer, np.floating)) \
            or not math.isfinite(holdout) or not (0 < holdout < 1 or holdout > 1):
        raise InputError(f"holdout must be a fraction in (0, 1) or a threshold > 1 (in the units of "
                         f"{column!r}), got {holdout!r}")
    if holdout < 1:
        n_out = max(1, int(round(holdout * len(values))))
        cut = float(np.sort(values)[::-1][n_out - 1])
        below = values[values < cut]
        threshold = float(below.max()) if below.size else cut
        held = values >= cut
    else:
        threshold = float(holdout)
        held = values > threshold
    if not held.any() or held.all():
        raise InputError(f"holdout={holdout!r} holds out {int(held.sum())} of {len(values)} runs "
                         f"({column} from {values.min():.4g} to {values.max():.4g}); need runs on each side")
    train, test = runs.subset(~held), runs.subset(held)
    info = {"by": column, "holdout": holdout, "threshold": threshold, "n_train": len(train),
            "n_heldout": len(test), "train_range": (float(values[~held].min()), float(values[~held].max())),
            "heldout_range": (float(values[held].min()), float(values[held].max()))}
    return {"all": (train, test)}, info


def _split_groups(runs: Runs, holdout) -> tuple[dict, dict]:
    if not runs.has("group"):
        raise InputError("split='group' needs a 'group' column (load_runs(..., group='<your family column>'))")
    labels = runs.data["group"].astype(str).to_numpy()
    groups = list(pd.unique(labels))
    if len(groups) < 2:
        raise InputError(f"split='group' needs at least 2 groups; column 'group' has only {groups}")
    if holdout is None or (isinstance(holdout, float) and holdout == 0.2):  # the numeric default
        chosen = groups
    else:
        chosen = [str(holdout)] if isinstance(holdout, str) else [str(g) for g in holdout]
        unknown = [g for g in chosen if g not in groups]
        if unknown:
            raise InputError(f"holdout names unknown group(s) {unknown}; groups: {groups}")
    folds = {g: (runs.subset(labels != g), runs.subset(labels == g)) for g in chosen}
    info = {"by": "group", "holdout": chosen, "folds": chosen,
            "n_train": {g: len(t) for g, (t, _) in folds.items()},
            "n_heldout": int(sum(len(h) for _, h in folds.values()))}
    return folds, info
