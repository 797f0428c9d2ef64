"""The posterior itself, with arviz-plots: pairs and marginals, and prior against posterior.

Scale parameters (those fitted at the data's reference scale, such as A, B, N_c) span decades
under their priors, so they are shown as ``log10(A)``; the other parameters are shown as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from ..core.formatting import short_label
from ..core.progress import quiet_logger
from ._style import DATA, POSTERIOR, detach, styled

PRIOR = "#9a9a9a"

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..posterior.record import FitRecord

__all__ = ["plot_posterior", "plot_prior_posterior"]


def _display_name(fit: FitRecord, name: str) -> str:
    p = fit.law.parameters.get(name)
    return f"log10({name})" if p is not None and p.reference is not None else name


def _selected(fit: FitRecord, dataset, var_names: Sequence[str] | None, where: str):
    """The chosen variables of a posterior/prior Dataset, scale parameters as log10."""
    import xarray as xr

    names = list(fit.law.parameters) if var_names is None else [var_names] if isinstance(var_names, str) \
        else list(var_names)
    missing = [n for n in names if n not in dataset.data_vars]
    if missing:
        available = [v for v in dataset.data_vars if not v.endswith("_z")]
        raise InputError(f"{where} has no variable(s) {missing}; available: {available}")
    out = {}
    for n in names:
        values = dataset[n]
        out[_display_name(fit, n)] = np.log10(values) if _display_name(fit, n) != n else values
    data = xr.Dataset(out)
    if "group" not in data.dims:
        return data
    # arviz-plots' prior/posterior plot uses a "group" dimension of its own; panel titles show the
    # labels, shortened (a 100,000-character group name would be laid out in full)
    short = [short_label(g) for g in data["group"].values]
    if len(set(short)) < len(short):
        short = [f"{i}: {s}" for i, s in enumerate(short)]
    return data.assign_coords(group=short).rename({"group": "grp"})


def _n_panels(dataset) -> int:
    """Scalar variables to draw: one per variable and coordinate of its non-sample dimensions."""
    return sum(int(np.prod([s for d, s in v.sizes.items() if d not in ("chain", "draw")]))
               for v in dataset.data_vars.values())


def _figure(pc):
    fig = pc.viz["figure"].item()
    return detach(fig)


@styled
def plot_posterior(fit: FitRecord, *, var_names: Sequence[str] | None = None) -> Figure:
    """Pairwise joint densities and marginals of the law's parameters (``arviz_plots.plot_pair``).

    Parameters
    ----------
    fit : Fit
    var_names : list of str, optional
        Posterior variables to show (default: the law's parameters; per group when they vary,
        one row and column per group). Scale parameters are shown as log10.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import arviz_plots as ap
    import xarray as xr
    from arviz_base import rc_context

    data = _selected(fit, fit.posterior["posterior"].to_dataset(), var_names, "the posterior")
    n = _n_panels(data)
    side = float(np.clip(2.1 * n, 4.5, 13.0))
    tree = xr.DataTree.from_dict({"posterior": data})
    with rc_context({"plot.max_subplots": max(40, n * n), "stats.ci_prob": 0.9, "stats.ci_kind": "eti"}):
        pc = ap.plot_pair(tree, backend="matplotlib", marginal=True,
                          visuals={"scatter": {"alpha": 0.12, "width": 0, "color": POSTERIOR},
                                   "contour": {"color": DATA}, "dist": {"color": POSTERIOR},
                                   "credible_interval": {"color": DATA}, "point_estimate": {"color": DATA}},
                          figure_kwargs={"figsize": (side, side), "layout": "constrained"})
    plots = pc.viz["plot"].values
    for i in range(min(plots.shape)):  # densities on the diagonal: their scale says nothing
        plots[i, i].set_yticks([])
    fig = _figure(pc)
    fig.suptitle(f"{fit.law.name}: posterior of the law's parameters", fontsize=11.5, fontweight="bold")
    return fig


@styled
def plot_prior_posterior(fit: FitRecord, *, var_names: Sequence[str] | None = None, n_prior: int = 1000,
                         seed: int = 0, kind: str = "ecdf") -> Figure:
    """Prior against posterior marginals (``arviz_plots.plot_prior_posterior``).

    The prior draws come from the fitted model itself (``build_model`` with the fit's law,
    priors, likelihood and structure, then ``pymc.sample_prior_predictive``), so it shows what
    the data added. Compiles a small PyMC sampler: a few seconds.

    Cumulative distributions by default: a posterior much narrower than its prior (the usual
    case) flattens the prior's density to nothing on a common axis, while both CDFs stay legible.

    Parameters
    ----------
    fit : Fit
    var_names : list of str, optional
        Variables (default: the law's parameters); scale parameters are shown as log10.
    n_prior : int
        Prior draws.
    seed : int
        Seed of the prior draws.
    kind : {"ecdf", "kde", "hist"}
        How each marginal is drawn.
    """
    import arviz_plots as ap
    import pymc as pm
    import xarray as xr
    from arviz_base import rc_context

    from ..pymc_model.build import build_model

    if int(n_prior) < 10:
        raise InputError(f"n_prior must be at least 10, got {n_prior}")
    model = build_model(fit.law, fit.runs, fit.likelihood, fit.structure)
    names = list(fit.law.parameters) if var_names is None else var_names
    with model, quiet_logger("pymc"):
        prior = pm.sample_prior_predictive(draws=int(n_prior), random_seed=seed, var_names=list(
            dict.fromkeys([names] if isinstance(names, str) else names)), compile_kwargs={"mode": "FAST_COMPILE"})
    prior_ds = _selected(fit, prior["prior"].to_dataset(), names, "the prior")
    post_ds = _selected(fit, fit.posterior["posterior"].to_dataset(), names, "the posterior")
    n = _n_panels(post_ds)
    cols = min(n, 4)
    rows = int(np.ceil(n / cols))
    tree = xr.DataTree.from_dict({"posterior": post_ds, "prior": prior_ds})
    with rc_context({"plot.max_subplots": max(40, n)}):
        pc = ap.plot_prior_posterior(tree, backend="matplotlib", kind=kind, color=[PRIOR, POSTERIOR],
                                     figure_kwargs={"figsize": (3.0 * cols + 1.2, 2.6 * rows + 0.6),
                                                    "layout": "constrained"})
    fig = _figure(pc)
    for leg in fig.legends:
        leg.set_title(None)
    fig.suptitle(f"{fit.law.name}: prior ({n_prior} draws) and posterior", fontsize=11.5, fontweight="bold")
    return fig
