"""Residuals of log(response) against each input: what the law does not explain."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..core.formatting import short_label
from ._data import log_mean_at_runs, observed, residual_scale
from ._style import (
    DATA,
    OUTLIER,
    POSTERIOR,
    axis_label,
    band_alpha,
    finish,
    group_colors,
    mark_off_axis,
    new_figure,
    shown_alpha,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..posterior.record import FitRecord

__all__ = ["plot_residuals"]

_COLUMNS = ("N", "D", "C", "step")
_SIGMA_PROBS = (0.95, 0.68)  # ±2 and ±1 sigma, as shading ranks


def _y_limit(resid: np.ndarray, scale: float) -> float:
    """Half-height of the y axis: every run, unless a few far ones would flatten the sigma bands
    (then the axis stops at 8 sigma or the 95th percentile of |residual|, and those runs are marked at the edge)."""
    far = float(np.max(np.abs(resid)))
    keep = max(8 * scale, 1.12 * float(np.quantile(np.abs(resid), 0.95)))
    return far * 1.12 if far * 1.12 <= keep else keep


def _pick(colors, mask):
    return colors if isinstance(colors, str) else [c for c, m in zip(colors, mask) if m]


@styled
def plot_residuals(fit: FitRecord) -> Figure:
    """Residuals of log(response): observed minus the posterior median of the law's mean, per run.

    One panel per input present among N, D, C and step (plus any other law input), on a log
    x axis; runs coloured by group for hierarchical fits. The shaded bands are ±1 and ±2 times
    the posterior median of the residual scale (sigma, or sqrt(sigma² + run_sd²) with run
    effects). A trend in a panel means the law misses a dependence on that input.
    """
    cols = [c for c in _COLUMNS if observed(fit, c) is not None]
    cols += [c for c in fit.law.inputs.values() if c not in cols]
    mean = np.median(log_mean_at_runs(fit).reshape(-1, len(fit.runs)), axis=0)
    resid = np.log(fit.runs.values(fit.law.response)) - mean
    scale, scale_name = residual_scale(fit)
    if fit.structure.varying:
        colors = group_colors(fit.groups)
        labels = fit.runs.values("group").astype(str)
        point_colors = [colors[g] for g in labels]
    else:
        point_colors = DATA
    lim = _y_limit(resid, scale)
    n = len(cols)
    fig, axes = new_figure(1, n, figsize=(max(5.6, 3.6 * n + 1.4), 3.8), sharey=True)
    for i, (ax, col) in enumerate(zip(axes[0], cols)):
        x = observed(fit, col)
        for k, p in zip((2, 1), _SIGMA_PROBS):  # drawn like the other plots' 90% / 50% bands
            ax.axhspan(-k * scale, k * scale, color=POSTERIOR, alpha=band_alpha(p, _SIGMA_PROBS), linewidth=0)
        ax.axhline(0.0, color=POSTERIOR, linewidth=1.0)
        inside = np.abs(resid) <= lim
        ax.scatter(x[inside], resid[inside], s=18, c=_pick(point_colors, inside), edgecolors="white",
                   linewidths=0.4, zorder=4, alpha=0.9)
        mark_off_axis(ax, x, resid, lim)
        ax.set_xscale("log")
        ax.set_xlabel(axis_label(col))
        ax.set_title(f"against {col}")
    axes[0, 0].set_ylabel(f"residual of log {fit.law.response}")
    axes[0, 0].set_ylim(-lim * 1.12, lim * 1.12)
    handles = [Patch(facecolor=POSTERIOR, alpha=shown_alpha(p, _SIGMA_PROBS), edgecolor="none") for p in _SIGMA_PROBS]
    labels = [f"±{k} × {scale_name}" for k in (2, 1)]
    if fit.structure.varying:
        for g, c in colors.items():
            handles.append(Line2D([], [], marker="o", linestyle="", color=c, markeredgecolor="white"))
            labels.append(short_label(g))
    beyond = int((np.abs(resid) > lim).sum())
    if beyond:
        handles.append(Line2D([], [], marker="^", linestyle="", color=OUTLIER))
        labels.append(f"{beyond} run{'s' * (beyond > 1)} beyond the axis")
    fig.legend(handles, labels, loc="outside right center", fontsize=8)
    return finish(fig, f"{fit.law.name}: residuals of log {fit.law.response} "
                       f"(observed − posterior median of the law), {len(fit.runs)} runs")
