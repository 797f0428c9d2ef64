"""The compute-optimal frontier N_opt(C) and D_opt(C), with published reference lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from ..core.intervals import DEFAULT_PROB
from ..data.units import PF_DAY_FLOPS
from ..decisions.allocation import allocate_draws
from ._data import c_grid, fixed_inputs, has_nd, observed_range, positive, quantiles, targets
from ._style import (
    REFERENCE,
    as_probs,
    axis_label,
    draw_bands,
    finish,
    legend,
    median_line,
    new_figure,
    shade_beyond,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..posterior.record import FitRecord

__all__ = ["plot_frontier", "hoffmann2022_frontier", "kaplan2020_frontier"]

# Hoffmann et al. 2022, "Training Compute-Optimal Large Language Models", arXiv:2203.15556:
# the parametric fit L(N, D) = E + A/N^alpha + B/D^beta of Approach 3 (Eq. 10 and its text), and
# Eq. 4: N_opt(C) = G (C/6)^a, D_opt(C) = G^-1 (C/6)^b, a = beta/(alpha+beta), b = alpha/(alpha+beta),
# G = (alpha A / (beta B))^(1/(alpha+beta)).
HOFFMANN2022 = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}

# Kaplan et al. 2020, "Scaling Laws for Neural Language Models", arXiv:2001.08361, Table 6
# (compute-efficient training): N = 1.3e9 C_min^0.73 (non-embedding parameters) and
# D = 2e10 C_min^0.27 tokens, C_min in PF-days (1 PF-day = 8.64e19 FLOPs).
KAPLAN2020 = {"N_coef": 1.3e9, "N_exp": 0.73, "D_coef": 2e10, "D_exp": 0.27}
KAPLAN_LABEL = "Kaplan 2020 (non-embedding N, C_min)"
HOFFMANN_LABEL = "Hoffmann 2022 (Eq. 4, approach 3)"


def hoffmann2022_frontier(C) -> tuple[np.ndarray, np.ndarray]:
    """(N_opt, D_opt) of Hoffmann et al. 2022's parametric fit (Eq. 4) at compute C (FLOPs, C = 6 N D)."""
    h = HOFFMANN2022
    C = np.asarray(C, dtype=float)
    a = h["beta"] / (h["alpha"] + h["beta"])
    G = (h["alpha"] * h["A"] / (h["beta"] * h["B"])) ** (1 / (h["alpha"] + h["beta"]))
    n = G * (C / 6) ** a
    return n, (C / 6) / n


def kaplan2020_frontier(C) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) of Kaplan et al. 2020, Table 6, at compute C (FLOPs, read as C_min)."""
    k = KAPLAN2020
    pf_days = np.asarray(C, dtype=float) / PF_DAY_FLOPS
    return k["N_coef"] * pf_days ** k["N_exp"], k["D_coef"] * pf_days ** k["D_exp"]


@styled
def plot_frontier(fit: FitRecord, *, budgets=None, prob=(0.5, DEFAULT_PROB), references: bool = True,
                  group: str | None = None) -> Figure:
    """Compute-optimal model size N_opt(C) and tokens D_opt(C), with credible bands.

    Evaluated with ``fit.allocate_draws`` over a grid of compute from below the observed
    range to beyond it (and to ``budgets``, marked with their widest interval); the region
    beyond the observed compute is shaded and the median is dashed there. With
    ``references=True``, the published frontiers of Hoffmann et al. 2022 (Eq. 4 with
    E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28) and Kaplan et al. 2020 (Table 6:
    N = 1.3e9 C_min^0.73, D = 2e10 C_min^0.27, C_min in PF-days; non-embedding
    parameters) are drawn for comparison.

    Parameters
    ----------
    fit : Fit
        A fit of a law of N and D.
    budgets : array-like, optional
        Budgets in FLOPs to extend the curves to and mark.
    prob : float or tuple of float
        Mass of the bands (default 50% and 90%).
    references : bool
        Draw the published reference lines.
    group : str, optional
        For a hierarchical fit, one group; by default every group, one colour each.

    Raises
    ------
    ValueError
        The law has no inputs N and D.
    """
    if not has_nd(fit):
        raise InputError(f"plot_frontier needs a law of N and D (the compute-optimal allocation under "
                         f"C = k·N·D); law {fit.law.name!r} has inputs {sorted(fit.law.inputs.values())}")
    probs = as_probs(prob)
    budgets = None if budgets is None else positive("budgets", budgets)
    items = targets(fit, group)
    grouped = items[0][0] is not None and len(items) > 1
    fit = items[0][1] if len(items) == 1 else fit  # the observed compute range of the runs drawn
    fixed = fixed_inputs(fit, ("N", "D"))
    cs = c_grid(fit, budgets)
    c_range = observed_range(fit, "C")
    fig, axes = new_figure(1, 2, figsize=(12.5, 4.3))
    panels = (("N_opt", "N"), ("D_opt", "D"))
    for label, f, color in items:
        alloc = allocate_draws(f, cs, **fixed)
        marks = allocate_draws(f, budgets, **fixed) if budgets is not None else None
        for ax, (var, col) in zip(axes[0], panels):
            med, bands = quantiles(alloc[var].values, probs)
            draw_bands(ax, cs, bands, color)
            median_line(ax, cs, med, color, observed=c_range,
                        label=label if grouped else "posterior median")
            if marks is not None:
                m, b = quantiles(marks[var].values, probs[:1])
                lo, hi = b[probs[0]]
                ax.errorbar(budgets, m, yerr=[m - lo, hi - m], fmt="D", ms=5, color=color, mec="white", mew=0.6,
                            capsize=3, zorder=5, label=f"budgets ({probs[0]:.0%})" if label == items[0][0] else None)
    if references:
        n_h, d_h = hoffmann2022_frontier(cs)
        n_k, d_k = kaplan2020_frontier(cs)
        for ax, h, k in ((axes[0, 0], n_h, n_k), (axes[0, 1], d_h, d_k)):
            ax.plot(cs, h, color=REFERENCE, linestyle=(0, (5, 2)), linewidth=1.3, label=HOFFMANN_LABEL, zorder=3.5)
            ax.plot(cs, k, color=REFERENCE, linestyle=(0, (1, 1.5)), linewidth=1.5, label=KAPLAN_LABEL, zorder=3.5)
    for ax, (var, col) in zip(axes[0], panels):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(axis_label("C"))
        ax.set_ylabel(f"{var} ({'parameters' if col == 'N' else 'tokens'})")
        ax.set_title("compute-optimal model size" if col == "N" else "compute-optimal training tokens")
        shade_beyond(ax, *c_range)
    legend(axes[0, 0], probs, figure=True)
    what = f"{fit.law.name}" + (f" [{group}]" if group is not None else "")
    return finish(fig, f"{what}: compute-optimal allocation, posterior median and "
                       + " / ".join(f"{p:.0%}" for p in sorted(probs)) + " intervals")
