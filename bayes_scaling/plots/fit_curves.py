"""The fitted law against the observed runs: loss against N (tokens-per-parameter slices) and
against C (the compute-optimal loss), extrapolated to chosen budgets.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.cm import ScalarMappable

from ..core.intervals import DEFAULT_PROB
from ..decisions.allocation import allocate_draws
from ._data import c_grid, extended, fixed_inputs, grid, has_nd, observed, observed_range, positive, quantiles, targets
from ._style import (
    DATA,
    as_probs,
    axis_label,
    draw_bands,
    finish,
    legend,
    log_norm,
    math_number,
    median_line,
    new_figure,
    shade_beyond,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..posterior.record import FitRecord

__all__ = ["plot_fit"]

_SLICE_QUANTILES = (0.1, 0.5, 0.9)


@styled
def plot_fit(fit: FitRecord, *, budgets=None, prob=(0.5, DEFAULT_PROB), group: str | None = None) -> Figure:
    """The fitted law over the observed runs, with posterior median and credible bands.

    For a law of N and D (Chinchilla, ``kaplan_nd``, ...), two panels:

    - loss against N, runs coloured by tokens per parameter D/N, with the law at a few D/N
      slices (the 10%, 50% and 90% quantiles of the runs' D/N);
    - loss against C, with the compute-optimal loss (``fit.allocate``) and its bands,
      extrapolated to ``budgets`` (marked with their interval).

    For other laws (``kaplan_n``, ``kaplan_c``, ``kaplan_ns``, ...), one panel: the response
    against the law's first input; a second input (e.g. ``step``) is sliced at its quantiles,
    any further one held at its median. The region beyond the observed range is shaded and
    the median curve is dashed there.

    Parameters
    ----------
    fit : Fit
    budgets : array-like, optional
        Training budgets in FLOPs to extrapolate to (laws with N and D, or with C).
    prob : float or tuple of float
        Mass of the equal-tailed bands (default 50% and 90%).
    group : str, optional
        For a hierarchical fit, one group only; by default every group, one colour each.

    Returns
    -------
    matplotlib.figure.Figure
    """
    probs = as_probs(prob)
    budgets = None if budgets is None else positive("budgets", budgets)
    items = targets(fit, group)
    if has_nd(fit):
        fig = _nd_figure(fit, items, budgets, probs)
    else:
        fig = _generic_figure(fit, items, budgets, probs)
    what = f"{fit.law.name}" + (f" [{group}]" if group is not None else "")
    n_runs = sum(len(f.runs) for _, f, _ in items)
    return finish(fig, f"{what}: {n_runs} runs, posterior median and "
                       + " / ".join(f"{p:.0%}" for p in sorted(probs)) + " intervals")


# --------------------------------------------------------------------------- laws of N and D
def _nd_figure(fit, items, budgets, probs):
    fit = items[0][1] if len(items) == 1 else fit  # ranges and slices from the runs drawn
    fig, axes = new_figure(1, 2, figsize=(11, 4.3))
    ax_n, ax_c = axes[0]
    grouped = items[0][0] is not None and len(items) > 1
    fixed = fixed_inputs(fit, ("N", "D"))
    tpp_all = observed(fit, "D") / observed(fit, "N")
    cmap, norm = log_norm(tpp_all)
    n_range = observed_range(fit, "N")
    c_range = observed_range(fit, "C")
    n_grid = grid(*extended(*n_range))
    cs = c_grid(fit, budgets)
    limits = {ax_n: [observed(fit, "loss")], ax_c: [observed(fit, "loss")]}  # what the y range must show
    common = float(f"{np.median(tpp_all):.2g}")  # the one D/N slice of a grouped fit
    for ax in (ax_n, ax_c):
        _runs_legend_entry(ax)
    for label, f, color in items:
        N, D, C, y = (observed(f, c) for c in ("N", "D", "C", "loss"))
        tpp = D / N
        colors = color if grouped else cmap(norm(tpp))
        for ax, x in ((ax_n, N), (ax_c, C)):
            ax.scatter(x, y, s=20, c=colors, edgecolors="white", linewidths=0.4, zorder=4)
        # left: the law at a few tokens-per-parameter slices, all in one call
        slices = [common] if grouped else _slices(tpp)
        n_all = np.tile(n_grid, len(slices))
        d_all = n_all * np.repeat(slices, len(n_grid))
        draws = f.predict_draws(N=n_all, D=d_all, **fixed).values.reshape(-1, len(slices), len(n_grid))
        for i, r in enumerate(slices):
            med, bands = quantiles(draws[:, i], probs)
            c = color if grouped else cmap(norm(r))
            draw_bands(ax_n, n_grid, bands, c)
            name = label if grouped else f"D/N = {r:.3g}"
            median_line(ax_n, n_grid, med, c, observed=n_range, label=name)
            limits[ax_n].append(med)
        # right: the compute-optimal loss
        alloc = allocate_draws(f, cs, **fixed)
        med, bands = quantiles(alloc["loss_opt"].values, probs)
        draw_bands(ax_c, cs, bands, color)
        median_line(ax_c, cs, med, color, observed=c_range,
                    label=label if grouped else "compute-optimal loss (median)")
        limits[ax_c].append(med)
        if budgets is not None:
            limits[ax_c].append(_mark_budgets(ax_c, f, budgets, probs, color, fixed, first=label == items[0][0]))
    for ax, col, rng in ((ax_n, "N", n_range), (ax_c, "C", c_range)):
        ax.set_xscale("log")
        ax.set_xlabel(axis_label(col))
        ax.set_ylabel(axis_label("loss"))
        _loss_limits(ax, limits[ax])
        shade_beyond(ax, *rng)
    ax_n.set_title("loss against model size" + (f" at D/N = {common:.3g}" if grouped else ""))
    ax_c.set_title("compute-optimal loss against compute" if grouped else "loss against compute")
    legend(ax_n, probs, loc="upper right")
    legend(ax_c, probs, loc="upper right")
    if not grouped:
        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=[ax_n, ax_c], pad=0.01, aspect=30,
                     label="D/N (tokens per parameter)")
    return fig


def _runs_legend_entry(ax):
    ax.scatter([], [], s=20, c=DATA, edgecolors="white", linewidths=0.4, label="runs")


def _slices(values) -> list[float]:
    """The 10/50/90% quantiles (e.g. of D/N), rounded to 2 significant digits, without near-duplicates."""
    out: list[float] = []
    for q in np.quantile(values, _SLICE_QUANTILES):
        r = float(f"{q:.2g}")
        if not out or r / out[-1] > 1.25:
            out.append(r)
    return out


def _mark_budgets(ax, f, budgets, probs, color, fixed, *, first: bool):
    alloc = allocate_draws(f, budgets, **fixed)
    med, bands = quantiles(alloc["loss_opt"].values, probs[:1])
    lo, hi = bands[probs[0]]
    ax.errorbar(budgets, med, yerr=[med - lo, hi - med], fmt="D", ms=5, color=color, mec="white", mew=0.6,
                capsize=3, zorder=5, label=f"budgets ({probs[0]:.0%})" if first else None)
    return np.concatenate([lo, hi])


def _loss_limits(ax, values, pad: float = 0.06):
    v = np.concatenate([np.ravel(x) for x in values])
    v = v[np.isfinite(v)]
    lo, hi = v.min(), v.max()
    span = hi - lo if hi > lo else abs(hi) * 0.1 + 1e-9
    ax.set_ylim(lo - pad * span, hi + pad * span)


# --------------------------------------------------------------------------- other laws
def _budget_marks(ax, f, xcol, budgets, held, probs, color, *, first: bool) -> list:
    """The response at each budget, median and the widest interval, as error bars; returns the ends."""
    draws = f.predict_draws(**{xcol: budgets, **held}).values
    med, bands = quantiles(draws, probs[:1])
    lo, hi = bands[probs[0]]
    ax.errorbar(budgets, med, yerr=[med - lo, hi - med], fmt="D", ms=5, color=color, mec="white", mew=0.6,
                capsize=3, zorder=5, label=f"budgets ({probs[0]:.0%})" if first else None)
    return [lo, hi]


def _generic_figure(fit, items, budgets, probs):
    fit = items[0][1] if len(items) == 1 else fit  # ranges and slices from the runs drawn
    law = fit.law
    cols = list(law.inputs.values())
    xcol = cols[0]
    others = cols[1:]
    slice_col = others[0] if others else None
    response = law.response
    if budgets is not None and xcol != "C":
        warnings.warn(f"budgets are ignored: law {law.name!r} has no compute input (its inputs: {cols})",
                      UserWarning, stacklevel=3)
        budgets = None
    fig, axes = new_figure(1, 1, figsize=(7.2 if slice_col else 6.4, 4.3))
    ax = axes[0, 0]
    grouped = items[0][0] is not None and len(items) > 1
    x_range = observed_range(fit, xcol)
    xs = grid(*extended(*x_range, extra=budgets))
    held = {c: float(np.median(fit.runs.values(c))) for c in others if c != slice_col or grouped}
    if slice_col and not grouped:
        cmap, norm = log_norm(fit.runs.values(slice_col))
    values = [fit.runs.values(response)]
    _runs_legend_entry(ax)
    for label, f, color in items:
        x, y = f.runs.values(xcol), f.runs.values(response)
        point_colors = cmap(norm(f.runs.values(slice_col))) if slice_col and not grouped else color
        ax.scatter(x, y, s=20, c=point_colors, edgecolors="white", linewidths=0.4, zorder=4)
        slices = _slices(f.runs.values(slice_col)) if slice_col and not grouped else [None]
        inputs = {xcol: np.tile(xs, len(slices)), **held}
        if slices[0] is not None:
            inputs[slice_col] = np.repeat(slices, len(xs))
        draws = f.predict_draws(**inputs).values.reshape(-1, len(slices), len(xs))
        for i, s in enumerate(slices):
            med, bands = quantiles(draws[:, i], probs)
            c = cmap(norm(s)) if s is not None else color
            draw_bands(ax, xs, bands, c)
            name = (f"{slice_col} = {math_number(s)}" if s is not None
                    else label if grouped else "posterior median")
            median_line(ax, xs, med, c, observed=x_range, label=name)
            values.append(med)
        if budgets is not None:
            values += _budget_marks(ax, f, xcol, budgets, held, probs, color, first=label == items[0][0])
    ax.set_xscale("log")
    if response != "loss":
        ax.set_yscale("log")
    else:
        _loss_limits(ax, values)
    ax.set_xlabel(axis_label(xcol))
    ax.set_ylabel(axis_label(response))
    shade_beyond(ax, *x_range)
    title = f"{response} against {xcol}"
    if held:
        title += " (" + ", ".join(f"{c} = {math_number(v)}" for c, v in held.items()) + ")"
    ax.set_title(title)
    legend(ax, probs, loc="upper right")
    if slice_col and not grouped:
        fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, aspect=30, label=axis_label(slice_col))
    return fig
