"""Compute-optimal allocation: the N and D that minimise a law of N and D at a budget C = k·N·D.

Every posterior draw is optimised at every budget at once (numpy arrays shaped
``(draws, budgets)``; :mod:`bayes_scaling.decisions.optimum`) and summarised as a median with an
equal-tailed interval. Chinchilla-form laws (``E + A/N**alpha + B/D**beta``, any names) use the
closed form of Hoffmann et al. 2022, Eq. 4; any other law of N and D is minimised numerically by a
vectorized golden-section search in log N.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import DecisionWarning
from ..core.intervals import DEFAULT_PROB, decades_beyond, interval_columns
from .cost import budget_coordinate, budget_flops, cost_columns, resolve_cost
from .optimum import compute_range, flops_per_token_of, optimum

if TYPE_CHECKING:
    import xarray as xr

    from ..posterior.record import FitRecord

__all__ = ["allocate", "allocate_draws"]


def allocate_draws(fit: FitRecord, C=None, *, flops_per_token: float | None = None, method: str = "auto",
                   bounds=None, cost=None, inference_tokens=None, gpu_hours=None, dollars=None, hardware=None,
                   **fixed) -> xr.Dataset:
    """Posterior draws of the compute-optimal allocation: Dataset ``(chain, draw, budget)``.

    Variables ``N_opt``, ``D_opt``, ``tokens_per_param``, ``loss_opt``,
    ``a``, ``b``, ``G`` and ``interior``; draws whose optimum is not interior
    are NaN (and ``interior`` is False there). A fit whose parameters vary by group gets a ``group``
    dimension too (each group's own optimum, the same posterior draws). The budget and cost
    keywords are :func:`allocate`'s.
    """
    import xarray as xr

    keys = dict(flops_per_token=flops_per_token, method=method, bounds=bounds, cost=cost,
                inference_tokens=inference_tokens, gpu_hours=gpu_hours, dollars=dollars, hardware=hardware)
    if fit.structure.varying:
        parts = [allocate_draws(fit.for_group(g), C, **keys, **fixed) for g in fit.groups]
        return xr.concat(parts, dim=pd.Index(fit.groups, name="group"), combine_attrs="override")
    C = budget_flops(C, gpu_hours=gpu_hours, dollars=dollars, hardware=hardware)
    k = flops_per_token_of(fit, flops_per_token)
    cost = resolve_cost(k, cost, inference_tokens)
    opt = optimum(fit, budget_coordinate(cost, C)[None, :], method=method, bounds=bounds, fixed=fixed, cost=cost)
    ok = opt["interior"]
    nan = lambda x: np.where(ok, x, np.nan)  # noqa: E731
    post = fit.posterior["posterior"]
    shape = (post.sizes["chain"], post.sizes["draw"], len(C))
    values = {"N_opt": nan(np.exp(opt["log_N"])), "D_opt": nan(np.exp(opt["log_D"])),
              "tokens_per_param": nan(np.exp(opt["log_D"] - opt["log_N"])),
              "loss_opt": nan(np.exp(opt["log_loss"])), "a": nan(opt["a"]), "b": nan(1 - opt["a"]),
              "G": nan(np.exp(opt["log_G"])), "interior": ok}
    if cost.inference_tokens:
        values["inference_flops"] = nan(cost.inference_flops_per_param * cost.inference_tokens * np.exp(opt["log_N"]))
        values["training_flops"] = C - values["inference_flops"]
    ds = xr.Dataset({k_: (("chain", "draw", "budget"), np.asarray(v).reshape(shape)) for k_, v in values.items()},
                    coords={"chain": post["chain"].values, "draw": post["draw"].values, "C": ("budget", C)})
    ds.attrs.update(method=opt["method"], flops_per_token=k, cost=cost.describe(),
                    inference_tokens=cost.inference_tokens)
    if hardware is not None:
        ds.attrs["hardware"] = hardware.describe()
    return ds


def allocate(fit: FitRecord, C=None, *, prob: float = DEFAULT_PROB, flops_per_token: float | None = None,
             method: str = "auto", bounds=None, cost=None, inference_tokens=None, gpu_hours=None, dollars=None,
             hardware=None, **fixed) -> pd.DataFrame:
    """Compute-optimal allocation for each budget, with credible intervals.

    Parameters
    ----------
    fit : Fit
        A fitted law with inputs N and D.
    C : float or array-like
        Budgets in FLOPs (training; with ``inference_tokens``, the lifetime: training plus inference).
        Or give ``gpu_hours`` or ``dollars`` instead, with ``hardware``.
    prob : float
        Mass of the equal-tailed intervals.
    flops_per_token : float, optional
        k in C = k·N·D (default: the runs table's, 6 unless set).
    method : {"auto", "closed_form", "numeric"}
        ``"auto"``: the closed form for Chinchilla-form laws, else numeric.
    bounds : (float, float), optional
        Search range of the numeric solver in tokens per parameter (default:
        :func:`bayes_scaling.decisions.optimum.search_bounds`: very wide for a law alone, the
        runs' own range widened by half a decade for a fit with a structural term).
    cost : CostModel, optional
        The FLOPs of a plan (:class:`bayes_scaling.decisions.cost.CostModel`; default ``k·N·D``):
        Kaplan's attention term, a power law fitted to the runs' compute, ...
    inference_tokens : float, optional
        Tokens the model will serve: the budget then pays ``2·N`` FLOPs per inference token too
        (Sardana et al. 2023) and the optimum moves to smaller models trained longer; columns
        ``training_flops`` and ``inference_flops``. For a target loss instead of a budget, see
        :func:`bayes_scaling.decisions.lifetime.lifetime_plan`.
    gpu_hours, dollars, hardware
        A budget in accelerator-hours or money on ``hardware`` (:class:`~bayes_scaling.decisions.cost.Hardware`);
        with ``hardware`` the table echoes every budget as ``gpu_hours`` (and ``dollars``).
    **fixed
        Values of any other law inputs (held fixed).

    Returns
    -------
    pandas.DataFrame
        One row per budget: ``C``; ``N_opt``, ``D_opt``, ``tokens_per_param``,
        ``loss_opt`` and the allocation exponents ``a`` (N_opt ∝ C^a), ``b``
        and ``G`` (N_opt = G (C/k)^a), each as ``_median``, ``_lower``,
        ``_upper``; ``n_not_interior`` (draws whose optimum is at the search
        bounds or not a minimum: counted, and left out of the intervals) and
        ``decades_beyond_data`` (log10 distance of C outside the observed
        compute range). For numeric laws a, b, G are local (at each C). A fit whose parameters vary
        by group gives one row per group and budget (column ``group`` first).
    """
    keys = dict(flops_per_token=flops_per_token, method=method, bounds=bounds, cost=cost,
                inference_tokens=inference_tokens, gpu_hours=gpu_hours, dollars=dollars, hardware=hardware)
    if fit.structure.varying:
        frames = [allocate(fit.for_group(g), C, prob=prob, **keys, **fixed) for g in fit.groups]
        out = pd.concat([f.assign(group=g)[["group", *f.columns]] for g, f in zip(fit.groups, frames)],
                        ignore_index=True)
        out.attrs.update(frames[0].attrs)
        return out
    ds = allocate_draws(fit, C, **keys, **fixed)
    flat = {v: ds[v].values.reshape(-1, ds.sizes["budget"]) for v in ds.data_vars}
    out = pd.DataFrame({"C": ds["C"].values, **cost_columns(ds["C"].values, hardware)})
    extra = ("training_flops", "inference_flops") if "inference_flops" in flat else ()
    for name in ("N_opt", "D_opt", "tokens_per_param", "loss_opt", "a", "b", "G", *extra):
        out = out.assign(**interval_columns(name, flat[name], prob))
    out["n_not_interior"] = (~flat["interior"]).sum(axis=0)
    lo, hi = compute_range(fit, ds.attrs["flops_per_token"])
    out["decades_beyond_data"] = decades_beyond(out["C"].to_numpy(), lo, hi)
    if out["n_not_interior"].any():
        warnings.warn(f"{int(out['n_not_interior'].max())} of {flat['interior'].shape[0]} draws have no interior "
                      f"optimum at some budget (see n_not_interior); they are left out of the intervals",
                      DecisionWarning, stacklevel=2)
    out.attrs.update(prob=prob, n_draws=int(flat["interior"].shape[0]), **ds.attrs)
    return out
