"""Posterior draws -> predictions: the law evaluated over all draws at once (numpy).

No re-sampling and no PyMC: the formula is compiled to numpy from the same
parse the model used, and evaluated on arrays shaped ``(chain, draw, point)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.checks import positive_array
from ..core.errors import DecisionInputError, InputError
from ..core.intervals import decades_beyond, decades_beyond_ranges, interval_columns
from ..law.evaluate import log_value
from ..law.spec import LawSpec
from ..pymc_model.gathered import NUMPY_GATHERED_OPS, Gathered, gathered_inputs
from ..pymc_model.gathered import rows as to_rows
from ..pymc_model.structure import Structure, group_index, run_index

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["log_mean_draws", "resolve_inputs", "predict_draws", "predict_frame", "log_likelihood",
           "run_effect_draws", "standardized_residuals", "KINDS",
           "decades_beyond", "decades_beyond_ranges"]

KINDS = ("mean", "predictive")


def _param_values(law: LawSpec, posterior: xr.Dataset, group_idx: np.ndarray | None) -> dict[str, np.ndarray]:
    """Each law parameter's draws, shaped ``(chain, draw, 1)``, or ``(chain, draw, n)`` by group."""
    out = {}
    for name in law.parameters:
        var = posterior[name]
        if "group" in var.dims:
            if group_idx is None:
                raise InputError(f"parameter {name!r} varies by group: say which group (group=...)")
            out[name] = var.transpose("chain", "draw", "group").values[..., group_idx]  # (chain, draw, n)
        else:
            out[name] = var.values[..., None]  # (chain, draw, 1)
    return out


def log_mean_draws(law: LawSpec, posterior: xr.Dataset, inputs: Mapping[str, np.ndarray],
                   group_idx: np.ndarray | None = None) -> np.ndarray:
    """Log of the law's value for every draw and point: shape ``(chain, draw, n_points)``.

    ``inputs`` maps runs-table column names (e.g. ``"N"``, ``"step"``) to 1-D
    arrays of positive values; ``group_idx`` gives each point's group (index
    along the posterior's ``group`` dimension) when parameters vary by group.
    """
    log_inputs = {c: np.log(np.asarray(inputs[c], dtype=float))[None, None, :] for c in law.inputs.values()}
    out = log_value(law, _param_values(law, posterior, group_idx), log_inputs)
    return np.broadcast_to(out, (*posterior["sigma"].shape, len(next(iter(inputs.values())))))


def _warn_implausible(table: pd.DataFrame, observed: Mapping[str, tuple[float, float]] | None) -> None:
    """DecisionWarning for sizes that look like wrong units (N in billions: 7 for 7e9), never changed:
    outside the plausible range and three decades beyond the fit's own runs."""
    import warnings

    from ..core.errors import DecisionWarning
    from ..data.consistency import PLAUSIBLE

    for name, (low, high) in PLAUSIBLE.items():
        if name in table:
            v = table[name].to_numpy()
            lo_seen, hi_seen = (observed or {}).get(name, (np.inf, 0.0))
            below = (v < low) & (v < 1e-3 * lo_seen)
            above = (v > high) & (v > 1e3 * hi_seen) if high is not None else np.zeros(len(v), dtype=bool)
            odd = np.flatnonzero(below | above)
            if odd.size:
                warnings.warn(f"input {name!r} is {v[odd[0]]:g} at position(s) {odd[:5].tolist()}: wrong units? "
                              "(N counts parameters, D tokens: 7B is 7e9)", DecisionWarning, stacklevel=4)


def resolve_inputs(law: LawSpec, flops_per_token: float, given: Mapping[str, object],
                   observed: Mapping[str, tuple[float, float]] | None = None) -> pd.DataFrame:
    """The input table for a prediction: broadcast the given columns, derive N/D/C from C = k·N·D.

    Raises
    ------
    ValueError
        An unknown or missing input (naming it), or a value that is not finite and positive.
    """
    given = {k: v for k, v in given.items() if v is not None}
    needed = set(law.inputs.values())
    allowed = needed | {"N", "D", "C"}
    unknown = set(given) - allowed
    if unknown:
        raise DecisionInputError(f"law {law.name!r} takes no input {sorted(unknown)} (its inputs: "
                         f"{sorted(needed)}; N, D and C are related by C = {flops_per_token:g}·N·D)")
    arrays = {k: positive_array(f"input {k!r}", v) for k, v in given.items()}
    try:
        table = pd.DataFrame(dict(zip(arrays, np.broadcast_arrays(*arrays.values())))) if arrays else None
    except ValueError:
        raise DecisionInputError("inputs must be scalars or arrays of one common length: got lengths "
                                 + ", ".join(f"{k}={len(v)}" for k, v in arrays.items())) from None
    if table is None:
        raise DecisionInputError(f"law {law.name!r} needs input(s) {sorted(needed)}")
    k = flops_per_token
    if {"N", "D", "C"} <= set(table):
        ratio = table["C"] / (k * table["N"] * table["D"])
        off = np.flatnonzero(np.abs(ratio.to_numpy() - 1) > 1e-6)
        if off.size:
            raise DecisionInputError(f"N, D and C disagree (C != {k:g}·N·D) at position(s) {off[:5].tolist()}: "
                                     "give two of the three")
    with np.errstate(over="ignore", under="ignore"):
        if "D" not in table and {"N", "C"} <= set(table):
            table["D"] = table["C"] / (k * table["N"])
        if "N" not in table and {"D", "C"} <= set(table):
            table["N"] = table["C"] / (k * table["D"])
        if "C" not in table and {"N", "D"} <= set(table):
            table["C"] = k * table["N"] * table["D"]
    for col in set(table.columns) - set(arrays):
        positive_array(f"input {col!r} (derived from the other two of N, D, C: are their units right?)",
                       table[col].to_numpy())
    _warn_implausible(table, observed)
    missing = needed - set(table)
    if missing:
        raise DecisionInputError(f"law {law.name!r} needs input(s) {sorted(missing)}; give them "
                         f"(N, D or C: any two of the three)")
    return table


def predict_draws(law: LawSpec, posterior: xr.DataTree, inputs: pd.DataFrame, *, kind: str = "mean",
                  likelihood: str = "student_t", seed: int = 0,
                  group_idx: np.ndarray | None = None, offset: np.ndarray | None = None) -> xr.DataArray:
    """Draws of the response at each input row: DataArray ``(chain, draw, point)``.

    ``kind="predictive"`` adds the observation noise and, for fits with a run
    effect, a new run's offset ``Normal(0, run_sd)``. ``offset`` (``(chain, draw, point)``,
    in log response) is added to the law: a model discrepancy (:mod:`bayes_scaling.pymc_model.discrepancy`).
    """
    import xarray as xr

    post = posterior["posterior"]
    return xr.DataArray(predict_values(law, posterior, inputs, kind=kind, likelihood=likelihood, seed=seed,
                                       group_idx=group_idx, offset=offset),
                        dims=("chain", "draw", "point"),
                        coords={"chain": post["chain"].values, "draw": post["draw"].values}, name=law.response)


def predict_values(law: LawSpec, posterior: xr.DataTree, inputs: pd.DataFrame, *, kind: str = "mean",
                   likelihood: str = "student_t", seed: int = 0,
                   group_idx: np.ndarray | None = None, offset: np.ndarray | None = None) -> np.ndarray:
    """:func:`predict_draws` as a plain array ``(chain, draw, point)`` (no new xarray object: with dask
    installed, xarray imports ``dask.array`` when it makes its first one, about 0.6 s of a CLI command)."""
    if kind not in KINDS:
        raise InputError(f"kind must be one of {KINDS}, got {kind!r}")
    post = posterior["posterior"]
    log_mu = log_mean_draws(law, post, {c: inputs[c].to_numpy() for c in law.inputs.values()}, group_idx)
    if offset is not None:
        log_mu = log_mu + offset
    if kind == "predictive":
        rng = np.random.default_rng(seed)
        if "run_sd" in post:
            log_mu = log_mu + post["run_sd"].values[..., None] * rng.standard_normal(log_mu.shape)
        sigma = post["sigma"].values[..., None]
        if likelihood == "student_t":
            noise = rng.standard_t(np.broadcast_to(post["nu"].values[..., None], log_mu.shape))
        else:
            noise = rng.standard_normal(log_mu.shape)
        log_mu = log_mu + sigma * noise
    return np.exp(log_mu)


def predict_frame(draws: xr.DataArray | np.ndarray, inputs: pd.DataFrame, response: str, prob: float,
                  observed_ranges: Mapping[str, tuple[float, float]]) -> pd.DataFrame:
    """Median and equal-tailed ``prob`` interval of the draws, beside the inputs.

    ``decades_beyond_data`` is how far (log10) the point lies outside the
    observed range of its furthest input (0 inside the data).
    """
    values = np.asarray(getattr(draws, "values", draws), dtype=float)
    out = inputs.reset_index(drop=True).copy()
    out = out.assign(**interval_columns(response, values.reshape(-1, values.shape[-1]), prob))
    out["decades_beyond_data"] = decades_beyond_ranges(out, observed_ranges)
    out.attrs["prob"] = prob
    return out


LOG_LIKELIHOOD_CHUNK = 2**22  # elements (draws x rows) per block: ~32 MiB per float64 temporary


def _log_mean_blocks(law: LawSpec, post: xr.Dataset, runs, structure):
    """``(rows, log mean)`` for consecutive blocks of the runs' rows, over every draw.

    Each block's array is ``(chain, draw, rows)`` with about :data:`LOG_LIKELIHOOD_CHUNK`
    values, so per-row work over all draws never holds more than a block's temporaries. On a large
    table with few distinct values per input (checkpoints) the law's terms are computed on those
    values and taken to the rows, as in the model (:mod:`bayes_scaling.pymc_model.gathered`).
    """
    n = len(runs)
    gidx = group_index(structure, runs) if structure.varying else None
    raw = {c: runs.values(c) for c in law.inputs.values()}
    log_inputs = {c: np.log(np.asarray(v, dtype=float)) for c, v in raw.items()}
    distinct = gathered_inputs(log_inputs)
    step = max(1, LOG_LIKELIHOOD_CHUNK // max(1, post["sigma"].size))
    for lo in range(0, n, step):
        rows = slice(lo, min(n, lo + step))
        block_gidx = None if gidx is None else gidx[rows]
        if not distinct:
            yield rows, log_mean_draws(law, post, {c: v[rows] for c, v in raw.items()}, block_gidx)
            continue
        inputs = {c: Gathered(distinct[c][0][None, None, :], distinct[c][1][rows], c) if c in distinct
                  else v[None, None, rows] for c, v in log_inputs.items()}
        out = to_rows(log_value(law, _param_values(law, post, block_gidx), inputs, NUMPY_GATHERED_OPS))
        yield rows, np.broadcast_to(out, (*post["sigma"].shape, rows.stop - rows.start))


def log_likelihood(law: LawSpec, posterior: xr.DataTree, runs, likelihood: str,
                   structure=None, offset: np.ndarray | None = None) -> xr.Dataset:
    """Pointwise log-likelihood of log(response) for every draw and run (for PSIS-LOO).

    With a :class:`~bayes_scaling.pymc_model.structure.Structure`, each row uses its
    group's parameters and its run's offset. Computed in blocks of rows, so the
    temporaries stay small next to the result (draws x rows, float64).
    """
    import xarray as xr
    from scipy import stats

    structure = structure or Structure()
    post = posterior["posterior"].to_dataset()
    ridx = run_index(structure, runs) if structure.run_effect else None
    effects = post["run_effect"].transpose("chain", "draw", "run").values if ridx is not None else None
    y = np.log(runs.values(law.response))
    sigma = post["sigma"].values[..., None]
    nu = post["nu"].values[..., None] if likelihood == "student_t" else None
    ll = np.empty((*sigma.shape[:2], len(runs)))
    for rows, mu in _log_mean_blocks(law, post, runs, structure):
        if effects is not None:
            mu = mu + effects[..., ridx[rows]]
        if offset is not None:
            mu = mu + offset[..., rows]
        if nu is not None:
            ll[..., rows] = stats.t.logpdf(y[None, None, rows], df=nu, loc=mu, scale=sigma)
        else:
            ll[..., rows] = stats.norm.logpdf(y[None, None, rows], loc=mu, scale=sigma)
    name = f"log_{law.response}_obs"
    return xr.Dataset({name: (("chain", "draw", "obs"), ll)},
                      coords={"chain": post["chain"].values, "draw": post["draw"].values,
                              "obs": np.arange(len(runs))})


def run_effect_draws(law: LawSpec, posterior: xr.DataTree, runs, structure, seed) -> xr.DataArray:
    """Each run's offset, drawn from its exact conditional given every posterior draw.

    For fits whose sampler integrated the offsets out (Normal noise,
    :func:`bayes_scaling.pymc_model.build.collapsed`): given the law, ``sigma`` and ``tau = run_sd``, run
    r's offset is Normal with mean ``tau^2 S_r / (sigma^2 + n_r tau^2)`` and variance
    ``sigma^2 tau^2 / (sigma^2 + n_r tau^2)``, where ``S_r`` is the sum of its ``n_r``
    residuals in log space. One draw per posterior draw, so the pairs are draws of the joint
    posterior. Residual sums are accumulated in blocks of rows.
    """
    import xarray as xr

    post = posterior["posterior"].to_dataset()
    n_runs = len(structure.runs)
    ridx = run_index(structure, runs)
    y = np.log(runs.values(law.response))
    sigma, tau = post["sigma"].values, post["run_sd"].values
    sums = np.zeros((*sigma.shape, n_runs))
    for rows, mu in _log_mean_blocks(law, post, runs, structure):
        sums += _run_sums(np.subtract(y[rows], mu), ridx[rows], n_runs)
    n_r = np.bincount(ridx, minlength=n_runs)
    s2, t2 = sigma[..., None] ** 2, tau[..., None] ** 2
    denom = s2 + n_r * t2
    rng = np.random.default_rng(seed)
    values = t2 * sums / denom + np.sqrt(s2 * t2 / denom) * rng.standard_normal(sums.shape)
    return xr.DataArray(values, dims=("chain", "draw", "run"),
                        coords={"chain": post["chain"].values, "draw": post["draw"].values,
                                "run": list(structure.runs)})


def _run_sums(resid: np.ndarray, ridx: np.ndarray, n_runs: int) -> np.ndarray:
    """Each run's sum of ``resid`` (``(..., rows)``) over its rows: ``(..., n_runs)``.

    Rows stored run by run (as checkpoint tables are) are summed in segments (``add.reduceat``);
    otherwise each (draw, run) cell is a ``bincount`` bin (about 5x slower)."""
    flat = resid.reshape(-1, resid.shape[-1])
    if ridx.size and np.all(ridx[1:] >= ridx[:-1]):
        starts = np.flatnonzero(np.r_[True, ridx[1:] != ridx[:-1]])
        out = np.zeros((flat.shape[0], n_runs))
        out[:, ridx[starts]] = np.add.reduceat(flat, starts, axis=1)
    else:
        cell = ridx[None, :] + n_runs * np.arange(flat.shape[0])[:, None]  # (draw, run) as one index
        out = np.bincount(cell.ravel(), weights=flat.ravel(), minlength=flat.shape[0] * n_runs)
    return out.reshape(*resid.shape[:-1], n_runs)


def standardized_residuals(law: LawSpec, posterior: xr.DataTree, runs, structure=None,
                           offset: np.ndarray | None = None) -> np.ndarray:
    """Each row's residual of log(response) at the posterior medians, in units of sigma's median.

    A plug-in check of the noise model (:func:`bayes_scaling.posterior.diagnostics.noise_checks`): the
    law at the median of every parameter (each group's, for varying ones), plus the run's median
    offset for fits with run effects.
    """
    structure = structure or Structure()
    post = posterior["posterior"].to_dataset()
    point = post.median(("chain", "draw")).expand_dims(chain=[0], draw=[0])
    gidx = group_index(structure, runs) if structure.varying else None
    mu = log_mean_draws(law, point, {c: runs.values(c) for c in law.inputs.values()}, gidx)[0, 0]
    if structure.run_effect:
        mu = mu + point["run_effect"].values[0, 0][run_index(structure, runs)]
    if offset is not None:  # a model discrepancy: its median at each row
        mu = mu + np.median(offset, axis=(0, 1))
    return (np.log(runs.values(law.response)) - mu) / float(point["sigma"].values.squeeze())
