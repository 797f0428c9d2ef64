"""IsoFLOP curves: loss against N at fixed compute, with the posterior of the optimal N."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from ..core.intervals import DEFAULT_PROB
from ..decisions.allocation import allocate
from ._data import fixed_inputs, has_nd, observed, observed_range, positive, quantiles, targets
from ._style import (
    axis_label,
    draw_bands,
    finish,
    legend,
    math_number,
    median_line,
    new_figure,
    sequential,
    shade_beyond,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..posterior.record import FitRecord

__all__ = ["plot_isoflop"]

#: IsoFLOP curves span this many decades of N on each side of the median optimum.
_HALF_WIDTH_DECADES = 1.25
#: Observed runs within this many decades of a budget's compute are drawn on its curve.
_NEAR_DECADES = 0.1


@styled
def plot_isoflop(fit: FitRecord, budgets, *, prob: float = DEFAULT_PROB, group: str | None = None) -> Figure:
    """Loss against model size at fixed compute, one curve per budget (Hoffmann et al.'s IsoFLOP view).

    For each budget C, N runs over a grid around the optimum and D = C/(k N) (k from
    ``fit.runs.flops_per_token``); each curve is the posterior median of the loss with its
    ``prob`` band. The optimum N_opt (``fit.allocate``) is marked at its median, with a
    horizontal bar for its ``prob`` interval. Observed runs within 0.1 decades of a budget's
    compute are drawn on its curve; N beyond the observed range is shaded.

    Parameters
    ----------
    fit : Fit
        A fit of a law of N and D.
    budgets : float or array-like
        Training budgets in FLOPs.
    prob : float
        Mass of the bands and of the N_opt interval.
    group : str, optional
        For a hierarchical fit, one group; by default one panel per group.

    Raises
    ------
    ValueError
        The law has no inputs N and D.
    """
    if not has_nd(fit):
        raise InputError(f"plot_isoflop needs a law of N and D (IsoFLOP curves vary N at fixed C = k·N·D); "
                         f"law {fit.law.name!r} has inputs {sorted(fit.law.inputs.values())}")
    budgets = np.sort(positive("budgets", budgets))
    if not 0 < float(prob) < 1:
        raise InputError(f"prob must be in (0, 1), got {prob!r}")
    prob = float(prob)
    items = targets(fit, group)
    fig, axes = new_figure(1, len(items), figsize=(5.2 + 4.2 * (len(items) - 1) + 2.6, 4.6), sharex=True,
                           sharey=True)
    colors = sequential(len(budgets))
    fixed = fixed_inputs(fit, ("N", "D"))
    k = fit.runs.flops_per_token
    for ax, (label, f, _) in zip(axes[0], items):
        alloc = allocate(f, budgets, prob=prob, **fixed)
        centre = np.log10(alloc["N_opt_median"].to_numpy())
        offsets = np.linspace(-_HALF_WIDTH_DECADES, _HALF_WIDTH_DECADES, 81)
        n_all = 10.0 ** (centre[:, None] + offsets[None, :])  # (budgets, points)
        c_all = np.broadcast_to(budgets[:, None], n_all.shape)
        draws = f.predict_draws(N=n_all.ravel(), C=c_all.ravel(), **fixed).values
        draws = draws.reshape(-1, len(budgets), len(offsets))
        runs_c, runs_n, runs_y = observed(f, "C"), observed(f, "N"), observed(f, "loss")
        runs_labelled = False
        for i, c in enumerate(budgets):
            med, bands = quantiles(draws[:, i], [prob])
            draw_bands(ax, n_all[i], bands, colors[i])
            median_line(ax, n_all[i], med, colors[i], label=f"C = {math_number(c, 'FLOPs')}")
            row = alloc.iloc[i]
            ax.errorbar([row["N_opt_median"]], [row["loss_opt_median"]],
                        xerr=[[row["N_opt_median"] - row["N_opt_lower"]], [row["N_opt_upper"] - row["N_opt_median"]]],
                        fmt="o", ms=6, color=colors[i], mec="white", mew=0.8, capsize=3.5, elinewidth=1.6, zorder=6,
                        label=f"N_opt, median and {prob:.0%} interval" if i == len(budgets) - 1 else None)
            near = np.abs(np.log10(runs_c / c)) < _NEAR_DECADES
            if near.any():
                ax.scatter(runs_n[near], runs_y[near], s=22, color=colors[i], marker="s", edgecolors="black",
                           linewidths=0.5, zorder=5, label=None if runs_labelled else "runs at that compute (±0.1 dex)")
                runs_labelled = True
        ax.set_xscale("log")
        ax.set_xlabel(axis_label("N"))
        if len(items) > 1:
            ax.set_title(label)
    for ax, (_, f, _) in zip(axes[0], items):  # once every panel is drawn: they share their x range
        beyond = "N beyond the group's data" if len(items) > 1 else "N beyond the data"
        shade_beyond(ax, *observed_range(f, "N"), label=beyond)
    legend(axes[0, -1], [prob], loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    axes[0, 0].set_ylabel(axis_label("loss"))
    return finish(fig, f"{fit.law.name}" + (f" [{group}]" if group is not None else "")
                  + f": IsoFLOP curves (D = C / ({k:g} N)), posterior median and {prob:.0%} interval")
