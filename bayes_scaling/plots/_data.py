"""What the plots compute: observed ranges, grids, per-group fits and quantiles over all draws at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError
from ..core.intervals import quantile_bands as quantiles
from ..posterior.predict import log_mean_draws
from ..pymc_model.structure import group_index, run_index
from ._style import POSTERIOR, group_colors

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

#: Posterior draws behind every curve and band (the fit is thinned to them: a plot in a second or two).
PLOT_DRAWS = 500

__all__ = ["PLOT_DRAWS", "observed", "observed_range", "has_nd", "fixed_inputs", "targets", "quantiles", "grid",
           "extended", "c_grid", "positive", "log_mean_at_runs", "replicate_log", "residual_scale"]


def has_nd(fit: FitRecord) -> bool:
    """Whether the law has inputs N and D (so that compute-optimal allocation is defined)."""
    return {"N", "D"} <= set(fit.law.inputs.values())


def observed(fit: FitRecord, column: str) -> np.ndarray | None:
    """The runs' values of a numeric column; C from k·N·D when only N and D are there; else None."""
    if column == "C":
        return fit.runs.compute()
    return fit.runs.values(column) if fit.runs.has(column) else None


def observed_range(fit: FitRecord, column: str) -> tuple[float, float]:
    x = observed(fit, column)
    if x is None:
        raise InputError(f"the runs have no column {column!r}")
    return float(np.min(x)), float(np.max(x))


def positive(name: str, values) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(values, dtype=float)).ravel()
    if arr.size == 0 or not (np.isfinite(arr) & (arr > 0)).all():
        raise InputError(f"{name} must be finite and > 0, got {values!r}")
    return arr


def fixed_inputs(fit: FitRecord, exclude: Sequence[str]) -> dict[str, float]:
    """The law's other inputs held at their observed median (e.g. U of the data-constrained law)."""
    return {col: float(np.median(fit.runs.values(col))) for col in fit.law.inputs.values() if col not in exclude}


def targets(fit: FitRecord, group: str | None) -> list[tuple[str | None, FitRecord, str]]:
    """``(label, fit, colour)`` to draw: one group, every group of a hierarchical fit, or the fit itself,
    each thinned to :data:`PLOT_DRAWS` posterior draws (curves and bands need no more)."""
    fit = fit.thin(PLOT_DRAWS)
    if group is not None:
        return [(str(group), fit.for_group(group), POSTERIOR)]
    if fit.structure.varying:
        colors = group_colors(fit.groups)
        return [(g, fit.for_group(g), colors[g]) for g in fit.groups]
    return [(None, fit, POSTERIOR)]


def grid(lo: float, hi: float, n: int = 80) -> np.ndarray:
    return np.exp(np.linspace(np.log(lo), np.log(hi), n))


def extended(lo: float, hi: float, *, left: float = 0.15, right: float = 0.5, extra=None) -> tuple[float, float]:
    """The observed range ``[lo, hi]`` widened by fractions of its log-width (more to the right, where
    the questions are), and to cover ``extra`` values (e.g. budgets) with a margin.
    """
    width = np.log(hi / lo) if hi > lo else np.log(10.0)
    a, b = lo * np.exp(-left * width), hi * np.exp(right * width)
    if extra is not None:
        extra = positive("budgets", extra)
        a, b = min(a, extra.min() / 1.5), max(b, extra.max() * 1.5)
    return float(a), float(b)


def c_grid(fit: FitRecord, budgets=None, *, n: int = 80) -> np.ndarray:
    """Compute budgets (FLOPs) over the observed range, extrapolated beyond it and to ``budgets``."""
    return grid(*extended(*observed_range(fit, "C"), extra=budgets), n)


# --------------------------------------------------------------------------- at the observed runs
def _group_idx(fit: FitRecord):
    return group_index(fit.structure, fit.runs) if fit.structure.varying else None


def log_mean_at_runs(fit: FitRecord) -> np.ndarray:
    """Log of the law's mean at every observed run, for every draw: ``(chain, draw, runs)``.

    Each run uses its own group's parameters; run effects are not included (the law alone).
    """
    post = fit.posterior["posterior"].to_dataset()
    inputs = {c: fit.runs.values(c) for c in fit.law.inputs.values()}
    return np.asarray(log_mean_draws(fit.law, post, inputs, _group_idx(fit)))


def replicate_log(fit: FitRecord, seed: int = 0) -> np.ndarray:
    """Posterior-predictive replicates of log(response) at the observed runs: ``(chain, draw, runs)``.

    The same runs again (their group's parameters and, with run effects, their own fitted
    offsets) plus fresh observation noise from the fitted likelihood, for every draw at once.
    """
    post = fit.posterior["posterior"].to_dataset()
    mu = log_mean_at_runs(fit).copy()
    if fit.structure.run_effect and "run_effect" in post:
        mu = mu + post["run_effect"].transpose("chain", "draw", "run").values[..., run_index(fit.structure, fit.runs)]
    rng = np.random.default_rng(seed)
    sigma = post["sigma"].values[..., None]
    if fit.likelihood == "student_t":
        noise = rng.standard_t(np.broadcast_to(post["nu"].values[..., None], mu.shape))
    else:
        noise = rng.standard_normal(mu.shape)
    return mu + sigma * noise


def residual_scale(fit: FitRecord) -> tuple[float, str]:
    """Posterior median of the residual scale of log(response), and what it is."""
    post = fit.posterior["posterior"]
    sigma = post["sigma"].values
    if fit.structure.run_effect and "run_sd" in post:
        return float(np.median(np.sqrt(sigma**2 + post["run_sd"].values ** 2))), "sqrt(sigma² + run_sd²)"
    return float(np.median(sigma)), "sigma"
