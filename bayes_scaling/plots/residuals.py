"""Residuals of log(response) against each input: what the law does not explain."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.formatting import short_label
from ._data import log_mean_at_runs, observed, residual_scale
from ._style import DATA, axis_label, finish, group_colors, new_figure, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..posterior.record import FitRecord

__all__ = ["plot_residuals"]

_COLUMNS = ("N", "D", "C", "step")


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
    n = len(cols)
    fig, axes = new_figure(1, n, figsize=(max(5.6, 3.6 * n + 1.4), 3.8), sharey=True)
    for i, (ax, col) in enumerate(zip(axes[0], cols)):
        x = observed(fit, col)
        ax.axhspan(-2 * scale, 2 * scale, color="#0072B2", alpha=0.08, linewidth=0,
                   label="±2 × " + scale_name if i == 0 else None)
        ax.axhspan(-scale, scale, color="#0072B2", alpha=0.14, linewidth=0,
                   label="±1 × " + scale_name if i == 0 else None)
        ax.axhline(0.0, color="#0072B2", linewidth=1.0)
        ax.scatter(x, resid, s=18, c=point_colors, edgecolors="white", linewidths=0.4, zorder=4, alpha=0.9)
        ax.set_xscale("log")
        ax.set_xlabel(axis_label(col))
        ax.set_title(f"against {col}")
    axes[0, 0].set_ylabel(f"residual of log {fit.law.response}")
    lim = max(3 * scale, float(np.max(np.abs(resid))) * 1.12)
    axes[0, 0].set_ylim(-lim, lim)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if fit.structure.varying:
        from matplotlib.lines import Line2D

        for g, c in colors.items():
            handles.append(Line2D([], [], marker="o", linestyle="", color=c, markeredgecolor="white"))
            labels.append(short_label(g))
    fig.legend(handles, labels, loc="outside right center", fontsize=8)
    return finish(fig, f"{fit.law.name}: residuals of log {fit.law.response} "
                       f"(observed − posterior median of the law), {len(fit.runs)} runs")
