"""The posterior predictive check, on the response's own scale (loss in nats/token), with the data.

Left: every observed run against its own predictive interval (the run replicated from the
fitted model), as a percentage of the run's predictive median, along compute (or the law's
first input); runs outside the widest interval are marked. Right: the distribution of the
response over the runs (ECDF), observed against replicated data sets, on an axis set by the
bulk of the replicates so that heavy-tailed draws cannot squash it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..core.errors import InputError
from ..core.intervals import DEFAULT_PROB
from ._data import observed, quantiles, replicate_log
from ._style import (
    DATA,
    OUTLIER,
    POSTERIOR,
    as_probs,
    axis_label,
    finish,
    mark_off_axis,
    new_figure,
    shown_alpha,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..posterior.record import FitRecord

__all__ = ["plot_ppc"]


def _x_column(fit: FitRecord) -> str:
    return "C" if observed(fit, "C") is not None else next(iter(fit.law.inputs.values()))


def _limit(rel: np.ndarray, interval: np.ndarray) -> float:
    """Half-height of the runs panel: every run and interval, unless a few far runs would flatten
    the rest (then the 95th percentile, and the far runs are marked at the edge)."""
    bulk = 1.15 * max(np.quantile(np.abs(rel), 0.95) if len(rel) > 10 else 0.0, np.abs(interval).max(), 1e-3)
    far = float(np.abs(rel).max())
    return 1.05 * far if far <= 1.5 * bulk else bulk


def _runs_panel(ax, fit, rep, x, probs) -> int:
    """Observed runs against their predictive intervals, in % of each run's predictive median."""
    med, bands = quantiles(rep, probs)
    for p in probs:  # widest first, as lines (a run is a point, not a curve)
        lo, hi = bands[p]
        ax.vlines(x, 100 * (lo / med - 1), 100 * (hi / med - 1), color=POSTERIOR,
                  alpha=shown_alpha(p, probs), linewidth=2.2 if p == probs[-1] else 1.2, zorder=2)
    y = fit.runs.values(fit.law.response)
    rel = 100 * (y / med - 1)
    lo, hi = bands[probs[0]]
    outside = (y < lo) | (y > hi)
    lim = _limit(rel, 100 * (np.stack(bands[probs[0]]) / med - 1))
    far = np.abs(rel) > lim
    outside &= ~far
    ax.scatter(x[~outside & ~far], rel[~outside & ~far], s=14, color=DATA, edgecolors="white", linewidths=0.3, zorder=4)
    ax.scatter(x[outside], rel[outside], s=26, color=OUTLIER, edgecolors="white", linewidths=0.4, zorder=5,
               marker="D")
    mark_off_axis(ax, x, rel, lim, fmt="{:+.1f}%")
    ax.axhline(0.0, color=POSTERIOR, linewidth=0.9, zorder=1)
    ax.set_xscale("log")
    ax.set_ylim(-lim * 1.12, lim * 1.12)
    return int(outside.sum() + far.sum())


def _ecdf_panel(ax, fit, rep, n_draws, seed) -> None:
    """ECDF of the response over the runs: the observed runs and ``n_draws`` replicated sets."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(rep.shape[0], size=min(int(n_draws), rep.shape[0]), replace=False)
    for row in chosen:
        ax.ecdf(rep[row], color=POSTERIOR, alpha=0.18, linewidth=0.8, zorder=2)
    y = fit.runs.values(fit.law.response)
    ax.ecdf(y, color=DATA, linewidth=2.0, zorder=3)
    lo, hi = np.quantile(rep[chosen], [0.005, 0.995])
    lo, hi = min(lo, y.min()), max(hi, y.max())
    pad = 0.04 * (hi - lo)
    ax.set_xlim(lo - pad, hi + pad)
    if fit.law.response != "loss":
        ax.set_xscale("log")
    ax.set_ylim(0, 1.01)
    ax.set_xlabel(axis_label(fit.law.response))
    ax.set_ylabel("fraction of runs at or below (ECDF)")
    ax.set_title("distribution over the runs")
    ax.legend([Line2D([], [], color=DATA, linewidth=2), Line2D([], [], color=POSTERIOR, alpha=0.5)],
              ["observed runs", f"replicated runs ({len(chosen)} draws)"], loc="lower right")


@styled
def plot_ppc(fit: FitRecord, *, n_draws: int = 100, prob=(0.5, DEFAULT_PROB), seed: int = 0) -> Figure:
    """Posterior predictive check on the response's own scale, with the observed runs.

    Each replicate re-draws every observed run from the fitted model (its group's law, its run
    effect, and the observation noise of the likelihood), for every posterior draw at once.

    Parameters
    ----------
    fit : Fit
    n_draws : int
        Replicated data sets drawn in the ECDF panel.
    prob : float or tuple of float
        Predictive intervals per run (default 50% and 90%); runs outside the widest are marked.
    seed : int

    Returns
    -------
    matplotlib.figure.Figure
    """
    if int(n_draws) < 1:
        raise InputError(f"n_draws must be at least 1, got {n_draws}")
    probs = as_probs(prob)
    rep = np.exp(replicate_log(fit, seed)).reshape(-1, len(fit.runs))
    col = _x_column(fit)
    x = observed(fit, col)
    fig, axes = new_figure(1, 2, figsize=(11.5, 4.2), width_ratios=(1.35, 1))
    ax_runs, ax_ecdf = axes[0]
    n_out = _runs_panel(ax_runs, fit, rep, x, probs)
    ax_runs.set_xlabel(axis_label(col))
    ax_runs.set_ylabel(f"{fit.law.response}: % from the run's predictive median")
    ax_runs.set_title(f"each run against its {probs[0]:.0%} predictive interval")
    handles = [Patch(facecolor=POSTERIOR, alpha=shown_alpha(p, probs), edgecolor="none") for p in probs]
    labels = [f"{p:.0%} predictive interval" for p in probs]
    handles += [Line2D([], [], marker="o", linestyle="", color=DATA, markeredgecolor="white"),
                Line2D([], [], marker="D", linestyle="", color=OUTLIER, markeredgecolor="white")]
    labels += ["observed run", f"outside the {probs[0]:.0%} interval ({n_out})"]
    ax_runs.legend(handles, labels, loc="upper right", fontsize=8)
    _ecdf_panel(ax_ecdf, fit, rep, n_draws, seed)
    n = len(fit.runs)
    inside = n - n_out
    return finish(fig, f"{fit.law.name}: posterior predictive check; {inside} of {n} runs "
                       f"({inside / n:.0%}) inside their {probs[0]:.0%} interval")
