"""Posterior -> comparisons of groups (model families, datasets, eval sets) of one hierarchical fit.

Every comparison is made draw by draw (the groups' parameters come from the
same posterior draw, so their correlations are kept) and summarised with
intervals. The fit must have per-group parameters (``bs.fit(..., pooled=[...])``).

- :func:`compare_groups`: for each pair of groups, the loss difference at the
  given inputs, P(A better than B) and the differences of the varying parameters.
- :func:`rank_groups`: each group's loss, P(best) and expected rank.
- :func:`group_offsets`: the offset of each group's loss from a reference
  group over the reference's observed runs, and how constant it is (the
  "transfer" finding of Kaplan et al. 2020: loss on another distribution is the
  validation loss plus a roughly constant offset).
"""

from __future__ import annotations

from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.intervals import DEFAULT_PROB, interval_columns
from ..posterior.predict import resolve_inputs
from .allocation import allocate_draws

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["compare_groups", "rank_groups", "group_offsets"]


def _check(fit: FitRecord) -> list[str]:
    if not fit.structure.varying:
        raise InputError("comparing groups needs a fit with per-group parameters: "
                         "bs.fit(runs, law=..., pooled=['alpha', 'E']) with a 'group' column")
    return list(fit.structure.groups)


def _compute_optimal(fit: FitRecord, given: dict) -> bool:
    """Whether only budgets C were given for a law of N and D: compare the groups at their own optimum."""
    cols = set(fit.law.inputs.values())
    return {"N", "D"} <= cols and given.get("C") is not None and given.get("N") is None and given.get("D") is None


def _loss_draws(fit: FitRecord, inputs: dict) -> tuple[dict[str, np.ndarray], pd.DataFrame, dict]:
    """Mean-loss draws ``(S, points)`` per group, the input table, and per group its N_opt draws when the
    groups are compared at their compute-optimal plans (only C given, for a law of N and D)."""
    out, n_opt = {}, {}
    if _compute_optimal(fit, inputs):
        fixed = {k: v for k, v in inputs.items() if k not in ("N", "D", "C") and v is not None}
        for g in _check(fit):
            ds = allocate_draws(fit.for_group(g), inputs["C"], **fixed)
            out[g] = ds["loss_opt"].values.reshape(-1, ds.sizes["budget"])
            n_opt[g] = ds["N_opt"].values.reshape(-1, ds.sizes["budget"])
        return out, pd.DataFrame({"C": ds["C"].values}), n_opt
    for g in _check(fit):
        da = fit.predict_draws(group=g, **inputs)
        out[g] = da.values.reshape(-1, da.shape[-1])
    return out, resolve_inputs(fit.law, fit.runs.flops_per_token, inputs), n_opt


def compare_groups(fit: FitRecord, N=None, D=None, C=None, *, prob: float = DEFAULT_PROB, **inputs) -> pd.DataFrame:
    """Per pair of groups (A, B) and input point: loss difference L_A - L_B, P(A better), parameter gaps.

    Given only budgets ``C`` for a law of N and D, each group is taken at its own compute-optimal plan
    at that budget (per draw): the loss compared is each group's best loss for the compute, and
    ``N_opt_ratio_*`` (A's N_opt over B's) says how differently they spend it.

    Returns
    -------
    pandas.DataFrame
        ``group_a``, ``group_b``, the inputs, ``diff_median/_lower/_upper``
        (loss of A minus loss of B; negative: A is better), ``p_a_better`` and,
        for each varying parameter p, ``{p}_diff_*`` (A minus B).
    """
    loss, table, n_opt = _loss_draws(fit, {"N": N, "D": D, "C": C, **inputs})
    post = fit.posterior["posterior"]
    rows = []
    for a, b in combinations(loss, 2):
        frame = table.copy().reset_index(drop=True)
        frame.insert(0, "group_b", b)
        frame.insert(0, "group_a", a)
        diff = loss[a] - loss[b]
        frame = frame.assign(**interval_columns("diff", diff, prob), p_a_better=_share(diff < 0, diff))
        if n_opt:
            frame = frame.assign(**interval_columns("N_opt_ratio", n_opt[a] / n_opt[b], prob))
        for p in fit.structure.varying:
            gap = (post[p].sel(group=a) - post[p].sel(group=b)).values.reshape(-1, 1)
            frame = frame.assign(**{k: v[0] for k, v in interval_columns(f"{p}_diff", gap, prob).items()})
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True)
    out.attrs.update(prob=prob)
    return out


def rank_groups(fit: FitRecord, N=None, D=None, C=None, *, prob: float = DEFAULT_PROB, **inputs) -> pd.DataFrame:
    """Per group and input point: loss interval, P(best of the groups) and expected rank (1 = best).

    Given only budgets ``C`` for a law of N and D, each group is taken at its own compute-optimal plan
    (per draw), and its ``N_opt_*`` is reported beside its loss.
    """
    loss, table, n_opt = _loss_draws(fit, {"N": N, "D": D, "C": C, **inputs})
    names = list(loss)
    stack = np.stack([loss[g] for g in names])  # (groups, S, points)
    ranks = np.where(np.isnan(stack), np.nan, np.nan_to_num(stack, nan=np.inf).argsort(axis=0).argsort(axis=0) + 1)
    rows = []
    for i, g in enumerate(names):
        frame = table.copy().reset_index(drop=True)
        frame.insert(0, "group", g)
        frame = frame.assign(**interval_columns("loss", stack[i], prob), p_best=_share(ranks[i] == 1, ranks[i]),
                             expected_rank=np.nanmean(ranks[i], axis=0))
        if n_opt:
            frame = frame.assign(**interval_columns("N_opt", n_opt[g], prob))
        rows.append(frame)
    out = pd.concat(rows, ignore_index=True).sort_values(["expected_rank"], kind="stable", ignore_index=True)
    out.attrs.update(prob=prob)
    return out


def _share(event: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Share of the draws (rows) where ``event`` holds, among those where ``values`` is not NaN."""
    valid = ~np.isnan(values)
    return np.where(valid, event, False).sum(axis=0) / np.maximum(valid.sum(axis=0), 1)


def group_offsets(fit: FitRecord, reference: str, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
    """Offset of each group's loss from ``reference``'s, over the reference group's observed runs.

    Returns
    -------
    pandas.DataFrame
        Per other group: ``offset_*`` (the mean over the reference runs of
        L_group - L_reference, nats), ``rel_offset_*`` (mean of the ratio - 1)
        and ``spread_median``: the posterior median of (max - min) of the
        offset across those runs. A spread small against the offset is the
        "constant offset" of transfer between distributions.
    """
    groups = _check(fit)
    if str(reference) not in groups:
        raise InputError(f"unknown reference group {reference!r}; groups: {groups}")
    ref_runs = fit.for_group(reference).runs
    inputs = {c: ref_runs.values(c) for c in fit.law.inputs.values()}
    base = fit.predict_draws(group=reference, **inputs).values.reshape(-1, len(ref_runs))
    rows = []
    for g in groups:
        if g == str(reference):
            continue
        other = fit.predict_draws(group=g, **inputs).values.reshape(-1, len(ref_runs))
        off = other - base
        row = {"group": g, "reference": str(reference), "n_points": len(ref_runs)}
        for name, v in (("offset", off.mean(axis=1)), ("rel_offset", (other / base - 1).mean(axis=1))):
            row.update({k: float(x[0]) for k, x in interval_columns(name, v[:, None], prob).items()})
        row["spread_median"] = float(np.median(off.max(axis=1) - off.min(axis=1)))
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(prob=prob)
    return out
