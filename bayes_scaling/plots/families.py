"""Families (groups) of a hierarchical fit: their parameters side by side, and who beats whom."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from ..core.formatting import short_label
from ..core.intervals import DEFAULT_PROB
from ..decisions.allocation import allocate
from ..decisions.groups import compare_groups, rank_groups
from ._data import has_nd, positive, quantiles
from ._style import finish, group_colors, math_number, new_figure, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..posterior.record import FitRecord

__all__ = ["plot_families"]


@styled
def plot_families(fit: FitRecord, *, C, N=None, prob: float = DEFAULT_PROB) -> Figure:
    """Per-group parameters (forest) and P(row group beats column group) at one input point.

    Left, one panel per varying parameter: each group's posterior median with its 50% and
    ``prob`` intervals (and the population centre when the parameter has one). Right: the
    matrix of P(loss of the row group < loss of the column group) at compute ``C``
    (``fit.compare_groups``), with each group's P(best) (``fit.rank_groups``) in its label.

    Parameters
    ----------
    fit : Fit
        A fit with per-group parameters (``bs.fit(..., pooled=[...])``).
    C : float
        Training compute in FLOPs of the comparison.
    N : float, optional
        Model size of the comparison (D = C/(k N)). For a law of N and D, default: the median
        over the groups of their compute-optimal N at C (one common plan for all groups).
    prob : float
        Mass of the outer intervals.

    Raises
    ------
    ValueError
        The fit has no per-group parameters.
    """
    if not fit.structure.varying:
        raise InputError("plot_families needs a fit with per-group parameters: "
                         "bs.fit(runs, law=..., pooled=['alpha', 'E']) with a 'group' column")
    if not 0 < float(prob) < 1:
        raise InputError(f"prob must be in (0, 1), got {prob!r}")
    C = float(positive("C", C)[0])
    inputs = {"C": C}
    if N is not None:
        inputs["N"] = float(positive("N", N)[0])
    elif has_nd(fit):
        inputs["N"] = float(np.median([allocate(fit.for_group(g), C)["N_opt_median"].iloc[0] for g in fit.groups]))
    groups = list(fit.groups)
    varying = list(fit.structure.varying)
    n_rows = len(varying)
    fig = new_figure(1, 1, figsize=(11, max(3.8, 0.42 * len(groups) * n_rows + 1.6)))[0]
    fig.clear()
    spec = fig.add_gridspec(n_rows, 2, width_ratios=(1.0, 1.15))
    colors = group_colors(groups)
    post = fit.posterior["posterior"]
    for i, p in enumerate(varying):
        ax = fig.add_subplot(spec[i, 0])
        _forest(ax, fit, post, p, groups, colors, prob)
    ax_m = fig.add_subplot(spec[:, 1])
    _matrix(fig, ax_m, fit, groups, inputs, prob)
    where = ", ".join(f"{k} = {math_number(v, 'FLOPs' if k == 'C' else 'parameters' if k == 'N' else '')}"
                      for k, v in inputs.items())
    return finish(fig, f"{fit.law.name}: {len(groups)} groups (varying: {', '.join(varying)}); comparison at {where}")


def _forest(ax, fit, post, p, groups, colors, prob):
    draws = post[p].transpose("chain", "draw", "group").sel(group=groups).values.reshape(-1, len(groups))
    med, bands = quantiles(draws, (0.5, prob))
    y = np.arange(len(groups))[::-1]
    for j, g in enumerate(groups):
        ax.plot([bands[prob][0][j], bands[prob][1][j]], [y[j], y[j]], color=colors[g], linewidth=1.4,
                solid_capstyle="round")
        ax.plot([bands[0.5][0][j], bands[0.5][1][j]], [y[j], y[j]], color=colors[g], linewidth=4.0,
                solid_capstyle="round")
        ax.plot(med[j], y[j], "o", color="white", markeredgecolor=colors[g], markersize=6, markeredgewidth=1.6)
    centre = f"{p}_mu"
    if fit.law.parameters[p].reference is None and centre in post and "group" not in post[centre].dims:
        ax.axvline(float(np.median(post[centre].values)), color="#7f7f7f", linestyle="--", linewidth=1.0,
                   label="population centre")
        ax.legend(loc="lower right", fontsize=7.5)
    ax.set_yticks(y, [short_label(g) for g in groups])
    ax.set_ylim(-0.6, len(groups) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_title(f"{p}: median, 50% and {prob:.0%} intervals", fontsize=10, loc="left")


def _matrix(fig, ax, fit, groups, inputs, prob):
    cmp = compare_groups(fit, **inputs, prob=prob)
    ranks = rank_groups(fit, **inputs, prob=prob).set_index("group")
    k = len(groups)
    idx = {g: i for i, g in enumerate(groups)}
    m = np.full((k, k), np.nan)
    for _, row in cmp.iterrows():
        a, b = idx[row["group_a"]], idx[row["group_b"]]
        m[a, b] = row["p_a_better"]
        m[b, a] = 1.0 - row["p_a_better"]
    image = ax.imshow(np.ma.masked_invalid(m), cmap="RdBu", vmin=0.0, vmax=1.0)
    ax.set_facecolor("#f2f2f2")
    for a in range(k):
        for b in range(k):
            if a != b:
                v = m[a, b]
                ax.text(b, a, f"{v:.2f}", ha="center", va="center", fontsize=9,
                        color="white" if abs(v - 0.5) > 0.3 else "black")
    labels = [f"{short_label(g)}\nP(best) {ranks.loc[g, 'p_best']:.2f}" for g in groups]
    ax.set_xticks(range(k), [short_label(g) for g in groups], rotation=30 if k > 3 else 0,
                  ha="right" if k > 3 else "center")
    ax.set_yticks(range(k), labels)
    ax.grid(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    ax.set_xlabel("column group")
    ax.set_ylabel("row group")
    ax.set_title("P(row group has lower loss than column group)", fontsize=10)
    fig.colorbar(image, ax=ax, shrink=0.8, pad=0.02, label="probability")
