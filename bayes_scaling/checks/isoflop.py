"""Iso-FLOP profiles (Hoffmann et al. 2022, Approach 2): each budget's own optimum, against the law's.

For runs trained at a few fixed budgets (an iso-FLOP sweep), :func:`isoflop` fits a parabola in log
N to the log loss of each budget's runs, and reads that budget's own compute-optimal N off its
vertex, with a residual-bootstrap interval. It needs no law: it is the data's own answer at the
budgets that were run. Given a fit, it also puts the law's allocation at the same budgets beside
it, and warns (:class:`~bayes_scaling.DecisionWarning`) where the two intervals do not overlap:
the law then extrapolates the optimum along a path the runs do not follow (the iso-FLOP sweeps in
``../shared/data`` disagree with a Chinchilla-form fit by up to 2x). Holding the largest budget
out and comparing is the allocation backtest of ``benchmarks/bench_trust.py``.
"""

from __future__ import annotations

import html
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..core.errors import DecisionWarning, InputError
from ..core.intervals import DEFAULT_PROB, check_prob
from ..data.runs import Runs, load_runs
from ..decisions.allocation import allocate

__all__ = ["IsoFLOP", "isoflop", "budget_labels", "profile", "BUDGET_TOLERANCE"]

#: Runs whose compute differs by less than this (decades) belong to one budget.
BUDGET_TOLERANCE = 0.02


@dataclass(frozen=True, eq=False)
class IsoFLOP:
    """The result of :func:`isoflop`.

    Attributes
    ----------
    profiles : pandas.DataFrame
        One row per budget: ``C``, ``n_runs``, ``N_opt`` (the vertex), ``N_opt_lower``,
        ``N_opt_upper`` (bootstrap), ``D_opt``, ``loss_opt``, ``interior`` (the vertex lies inside
        the budget's runs and the parabola opens upwards) and ``note``.
    comparison : pandas.DataFrame or None
        With a fit: per budget, the law's ``law_N_opt_median/_lower/_upper`` beside the profile's,
        ``ratio`` (law over profile) and ``overlap``.
    prob : float
        Mass of the intervals.
    """

    profiles: pd.DataFrame
    comparison: pd.DataFrame | None
    prob: float

    @property
    def agree(self) -> bool | None:
        """Whether every interior budget's law and profile intervals overlap (None without a fit)."""
        if self.comparison is None:
            return None
        return bool(self.comparison["overlap"].dropna().all())

    def __repr__(self) -> str:
        p = self.profiles
        lines = [f"<IsoFLOP: {len(p)} budgets, {int(p['interior'].sum())} with an interior optimum, "
                 f"{self.prob:.0%} intervals>"]
        for _, r in p.iterrows():
            lines.append(f"  C={r['C']:.3g}: N_opt {r['N_opt']:.3g} ({r['N_opt_lower']:.3g}-{r['N_opt_upper']:.3g}), "
                         f"{int(r['n_runs'])} runs{'' if r['interior'] else ' (' + r['note'] + ')'}")
        if self.comparison is not None:
            lines.append(f"  law vs profiles: {int(self.comparison['overlap'].sum())} of "
                         f"{int(self.comparison['overlap'].notna().sum())} budgets overlap")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [f"<div class='bayes-scaling-isoflop'><p>{html.escape(repr(self).splitlines()[0])}</p>",
                 self.profiles.to_html(float_format=lambda x: f"{x:.4g}", escape=True)]
        if self.comparison is not None:
            parts.append(self.comparison.to_html(float_format=lambda x: f"{x:.4g}", escape=True))
        return "".join(parts) + "</div>"


def budget_labels(compute: np.ndarray, tolerance: float = BUDGET_TOLERANCE) -> np.ndarray:
    """Each run's budget: the runs sorted by log10 compute, split where consecutive ones are more
    than ``tolerance`` decades apart; labelled by the median compute of their budget."""
    logc = np.log10(np.asarray(compute, dtype=float))
    order = np.argsort(logc)
    cluster = np.concatenate([[0], np.cumsum(np.diff(logc[order]) > tolerance)])
    labels = np.empty(len(logc))
    for k in np.unique(cluster):
        members = order[cluster == k]
        labels[members] = 10 ** np.median(logc[members])
    return labels


def profile(n: np.ndarray, loss: np.ndarray, *, prob: float = DEFAULT_PROB, n_boot: int = 1000,
            seed: int = 0) -> dict:
    """One budget's Approach-2 optimum: vertex of a parabola in log N through log loss, with a
    residual-bootstrap interval (``N_opt``, ``N_opt_lower``, ``N_opt_upper``, ``loss_opt``,
    ``interior``, ``note``)."""
    x, y = np.log(np.asarray(n, dtype=float)), np.log(np.asarray(loss, dtype=float))
    design = np.column_stack([x**2, x, np.ones_like(x)])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    fitted = design @ coef
    rng = np.random.default_rng(seed)
    boot = fitted[None, :] + rng.choice(y - fitted, size=(n_boot, len(y)), replace=True)
    c = np.linalg.lstsq(design, boot.T, rcond=None)[0]  # (3, n_boot)
    with np.errstate(divide="ignore", invalid="ignore"):
        vertices = np.where(c[0] > 0, -c[1] / (2 * c[0]), np.nan)
        vertex = -coef[1] / (2 * coef[0]) if coef[0] > 0 else np.nan
    tail = (1 - prob) / 2
    lo, hi = (np.nanquantile(vertices, [tail, 1 - tail]) if np.isfinite(vertices).mean() > 0.5
              else (np.nan, np.nan))
    inside = np.isfinite(vertex) and x.min() < vertex < x.max()
    note = ("" if inside else "the parabola opens downwards" if coef[0] <= 0 else
            "the optimum lies outside the budget's runs")
    return {"N_opt": float(np.exp(vertex)), "N_opt_lower": float(np.exp(lo)), "N_opt_upper": float(np.exp(hi)),
            "loss_opt": float(np.exp(coef[2] - coef[1] ** 2 / (4 * coef[0]))) if coef[0] > 0 else np.nan,
            "interior": bool(inside), "note": note}


def isoflop(data, *, fit=None, prob: float = DEFAULT_PROB, n_boot: int = 1000, seed: int = 0, min_runs: int = 4,
            tolerance: float = BUDGET_TOLERANCE, warn: bool = True) -> IsoFLOP:
    """Each budget's own compute-optimal N (Approach 2), and, with a fit, the law's beside it.

    Parameters
    ----------
    data : Runs, DataFrame, path or fit
        Runs with N and a compute (column C, or D with C = k·N·D); a fit (its runs) also compares.
    fit : Fit, optional
        The law to check against (default: ``data`` when it is a fit).
    prob : float
        Mass of the bootstrap and posterior intervals.
    n_boot, seed : int
        Residual-bootstrap resamples per budget, and their seed.
    min_runs : int
        Budgets with fewer runs are left out (a parabola needs at least 3 points; 4 to test it).
    tolerance : float
        Runs within this many decades of compute form one budget (:func:`budget_labels`).
    warn : bool
        Warn (:class:`~bayes_scaling.DecisionWarning`) about budgets where the law's interval and
        the profile's do not overlap.

    Returns
    -------
    IsoFLOP
    """
    check_prob(prob)
    if fit is None and hasattr(data, "posterior") and hasattr(data, "law"):
        fit = data
    runs = data.runs if hasattr(data, "posterior") else data if isinstance(data, Runs) else load_runs(data)
    compute = runs.compute()
    if compute is None or not runs.has("N"):
        raise InputError("iso-FLOP profiles need N and the compute of each run (column C, or D with C = k·N·D)")
    labels = budget_labels(compute, tolerance)
    rows = []
    for i, c in enumerate(np.unique(labels)):
        sel = labels == c
        if sel.sum() < min_runs:
            continue
        prof = profile(runs.values("N")[sel], runs.values(fit.law.response if fit else "loss")[sel], prob=prob,
                       n_boot=n_boot, seed=seed + i)
        rows.append({"C": c, "n_runs": int(sel.sum()), **prof,
                     "D_opt": c / (runs.flops_per_token * prof["N_opt"])})
    if not rows:
        raise InputError(f"no budget has {min_runs} runs or more (budgets: runs within {tolerance} decades of "
                         "compute); pass min_runs= or tolerance=")
    cols = ["C", "n_runs", "N_opt", "N_opt_lower", "N_opt_upper", "D_opt", "loss_opt", "interior", "note"]
    profiles = pd.DataFrame(rows)[cols]
    comparison = _compare(fit, profiles, prob, warn) if fit is not None else None
    return IsoFLOP(profiles=profiles, comparison=comparison, prob=prob)


def _compare(fit, profiles: pd.DataFrame, prob: float, warn: bool) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DecisionWarning)
        law = allocate(fit, profiles["C"].to_numpy(), prob=prob)
    out = profiles[["C", "N_opt", "N_opt_lower", "N_opt_upper", "interior"]].copy()
    for s in ("median", "lower", "upper"):
        out[f"law_N_opt_{s}"] = law[f"N_opt_{s}"].to_numpy()
    out["ratio"] = out["law_N_opt_median"] / out["N_opt"]
    overlap = (out["law_N_opt_lower"] <= out["N_opt_upper"]) & (out["law_N_opt_upper"] >= out["N_opt_lower"])
    out["overlap"] = overlap.where(out["interior"])
    off = out[out["overlap"] == False]  # noqa: E712 (NaN: no interior profile, not compared)
    if warn and len(off):
        shown = ", ".join(f"C={r.C:.3g}: law {r.law_N_opt_median:.3g} vs runs {r.N_opt:.3g}" for r in off.itertuples())
        warnings.warn(f"the law's compute-optimal N disagrees with the iso-FLOP profiles of {len(off)} of "
                      f"{int(out['overlap'].notna().sum())} budgets ({shown}): the law does not follow the runs' "
                      "own optimum there, so trust its allocation beyond the data less", DecisionWarning,
                      stacklevel=3)
    return out
