"""The fit record: a posterior DataTree with the runs, the law (and its priors) and the settings that made it.

:class:`FitRecord` is what every layer above this one takes: decisions, checks, plots and the
report read its posterior and call its predictions. :class:`bayes_scaling.Fit` (the top of the
package) is a ``FitRecord`` with one-line methods into those layers; nothing below the top ever
needs it. A record never changes: methods that add something return a new record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.formatting import fmt
from ..core.intervals import DEFAULT_PROB, as_table
from ..data.runs import Runs
from ..law.spec import LawSpec
from ..pymc_model.build import ref_name
from ..pymc_model.discrepancy import Discrepancy, f_draws
from ..pymc_model.structure import Structure
from . import predict as _predict
from .diagnostics import NU_HEAVY, NU_MIN, Diagnostics, heavy_tail_note, summarize
from .structural import Structural

__all__ = ["FitRecord", "summary_names"]


@dataclass(frozen=True, eq=False, repr=False)
class FitRecord:
    """A fitted scaling law: posterior, runs, law spec (with priors) and settings.

    Attributes
    ----------
    posterior : xarray.DataTree
        ArviZ 1.x DataTree with groups ``posterior``, ``sample_stats``, ``observed_data``,
        ``constant_data`` and ``log_likelihood`` (the last one only when it was stored or
        computed by :meth:`with_log_likelihood`).
    runs : Runs
        The validated runs table the law was fitted to.
    law : LawSpec
        The law, with the priors actually used.
    likelihood : str
        ``"student_t"`` or ``"normal"`` (on log of the response).
    settings : dict
        Sampler settings, including the seed actually used.
    diagnostics : Diagnostics
        Divergences, R-hat, ESS, a verdict and model checks.
    versions, timings : dict
        Package versions, and seconds spent per step of the fit.
    structure : Structure
        Parameters varying by group and run effects (:mod:`bayes_scaling.pymc_model.structure`).
    discrepancy : Discrepancy or None
        The GP discrepancy sampled with the law (``discrepancy="gp"``,
        :mod:`bayes_scaling.pymc_model.discrepancy`); predictions include it.
    structural : Structural or None
        The structural term fitted to the law's residuals (the default,
        :mod:`bayes_scaling.posterior.structural`); predictions and decisions include it.
    warm_state : WarmStart or None
        The posterior's shape in the sampler's coordinates, the warm start of a refit
        (``bs.fit(..., warm_start=fit)``); not saved with the fit.
    """

    posterior: Any
    runs: Runs
    law: LawSpec
    likelihood: str
    settings: dict[str, Any]
    diagnostics: Diagnostics
    versions: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    structure: Structure = field(default_factory=Structure)
    discrepancy: Discrepancy | None = None
    structural: Structural | None = None
    warm_state: Any = field(default=None, repr=False, compare=False)

    @property
    def parameter_names(self) -> list[str]:
        """The law's parameters on their natural scale (per group where they vary), the population
        centres and between-group scales, the run-effect scale, the noise, then the GP's.
        """
        names = summary_names(self.law, self.likelihood, self.structure)
        return names + (["gp_ls", "gp_eta"] if self.discrepancy is not None else [])

    @property
    def groups(self) -> list[str]:
        """Group labels when parameters vary by group (else empty)."""
        return list(self.structure.groups)

    def for_group(self, group: str):
        """The fit seen from one group: its parameter draws and its runs, as an ordinary fit (same class).

        Every method then works per group, e.g. ``fit.for_group("llama").allocate(1e24)``.
        """
        if not self.structure.varying:
            raise InputError("this fit has no per-group parameters (fit with pooled=[...] and a 'group' column)")
        if str(group) not in self.structure.groups:
            raise InputError(f"unknown group {group!r}; groups: {list(self.structure.groups)}")
        tree = self.posterior.copy()
        post = tree["posterior"].to_dataset().sel(group=str(group)).drop_vars("group")
        keep = [v for v in post.data_vars if not v.endswith("_z")]
        tree["posterior"] = type(tree)(post[keep])
        mask = self.runs.data["group"].astype(str).to_numpy() == str(group)
        runs = replace(self.runs, data=self.runs.data.loc[mask])
        for name in ("observed_data", "constant_data"):  # the group's rows only, renumbered like its runs
            if name in tree.children:
                ds = tree[name].to_dataset().isel(obs=np.flatnonzero(mask))
                tree[name] = type(tree)(ds.assign_coords(obs=np.arange(int(mask.sum()))))
        if "log_likelihood" in tree.children:  # it used every group's parameters and rows
            del tree["log_likelihood"]
        return replace(self, posterior=tree, runs=runs,
                       structure=Structure(run_effect=False, run_scale=self.structure.run_scale))

    def thin(self, n_draws: int):
        """The fit with at most ``n_draws`` posterior draws (evenly spaced in each chain; same class), for
        curves and bands where a few hundred draws do (plots); the law's and the term's draws stay paired."""
        post = self.posterior["posterior"]
        total = post.sizes["chain"] * post.sizes["draw"]
        if total <= n_draws:
            return self
        step = int(np.ceil(total / n_draws))
        tree = self.posterior.copy()
        for name in ("posterior", "sample_stats", "log_likelihood"):
            if name in tree.children:
                tree[name] = type(tree)(tree[name].to_dataset().isel(draw=slice(None, None, step)))
        return replace(self, posterior=tree)

    def with_log_likelihood(self):
        """The fit with the pointwise ``log_likelihood`` group (for LOO): itself when it has one,
        else a new record (same class) whose tree has it; this record is not changed.
        """
        if "log_likelihood" in self.posterior.children:
            return self
        import xarray as xr

        tree = self.posterior.copy()
        tree["log_likelihood"] = xr.DataTree(_predict.log_likelihood(
            self.law, self.posterior, self.runs, self.likelihood, self.structure,
            offset=self.discrepancy_draws({c: self.runs.values(c) for c in self.law.inputs.values()})))
        return replace(self, posterior=tree)

    def summary(self, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Posterior summary of every parameter (mean, sd, median, interval, ESS, R-hat)."""
        return as_table(summarize(self.posterior, self.parameter_names, prob, self.diagnostics.by_parameter))

    def predict_draws(self, N=None, D=None, C=None, *, kind: str = "mean", seed: int | None = None,
                      group: str | None = None, **inputs):
        """Posterior draws of the response at the given inputs: DataArray ``(chain, draw, point)``."""
        fit, table = self._inputs(group, {"N": N, "D": D, "C": C, **inputs})
        return _predict.predict_draws(fit.law, fit.posterior, table, kind=kind, likelihood=fit.likelihood,
                                      seed=fit.seed_or(seed), offset=fit.offset_draws(table))

    def predict(self, N=None, D=None, C=None, *, prob: float = DEFAULT_PROB, kind: str = "mean",
                seed: int | None = None, group: str | None = None, **inputs) -> pd.DataFrame:
        """Credible intervals of the response at new inputs, over all posterior draws.

        Parameters
        ----------
        N, D, C : float or array-like, optional
            Model size, training tokens, training FLOPs: any two of them for a law of N and D
            (the third from C = k·N·D). Other law inputs (e.g. ``step=``, ``loss=``) by their
            runs-table column name.
        prob : float
            Probability mass of the equal-tailed interval.
        kind : {"mean", "predictive"}
            ``"mean"``: uncertainty of the law only. ``"predictive"``: plus the run-to-run noise
            (what a new training run would show).
        seed : int, optional
            Seed of the noise draws for ``kind="predictive"`` (default: the fit's seed).
        group : str, optional
            The group (family) to predict for, when parameters vary by group.

        Returns
        -------
        IntervalTable
            A pandas DataFrame: the inputs, ``<response>_median``, ``<response>_lower``,
            ``<response>_upper`` and ``decades_beyond_data`` (shown with each interval in one cell).
        """
        fit, table = self._inputs(group, {"N": N, "D": D, "C": C, **inputs})
        draws = _predict.predict_values(fit.law, fit.posterior, table, kind=kind, likelihood=fit.likelihood,
                                        seed=fit.seed_or(seed), offset=fit.offset_draws(table))
        frame = _predict.predict_frame(draws, table, fit.law.response, prob, fit.observed_ranges())
        frame.attrs.update(kind=kind, prob=prob)
        return as_table(frame)

    def _inputs(self, group, given) -> tuple[FitRecord, pd.DataFrame]:
        """The record to predict with (its group's, when parameters vary by group) and the input table."""
        fit = self
        if group is not None or self.structure.varying:
            if group is None:
                raise InputError(f"this fit's parameters vary by group: pass group= one of {self.groups}")
            fit = self.for_group(group)
        return fit, _predict.resolve_inputs(fit.law, fit.runs.flops_per_token, given, fit.observed_ranges())

    def observed_ranges(self) -> dict[str, tuple[float, float]]:
        """(min, max) of each numeric input column in the data (N, D, C when present)."""
        cols = set(self.law.inputs.values()) | ({"N", "D", "C"} & set(self.runs.data.columns))
        return {c: self.runs.observed_range(c) for c in sorted(cols)}

    def heavy_tail_note(self) -> str | None:
        """The report's caveat when Student-t noise has nu < 2: the rows beyond 4 sigma, named
        (:func:`~bayes_scaling.posterior.diagnostics.heavy_tail_note`); None otherwise."""
        if self.likelihood != "student_t":
            return None
        post = self.posterior["posterior"]
        nu, sigma = float(post["nu"].median()), float(post["sigma"].median())
        if not NU_MIN <= nu < NU_HEAVY:
            return None
        z = self.standardized_residuals()
        cols = list(self.law.inputs.values())
        labels = [f"row {label} (" + ", ".join(f"{c} {fmt(v)}" for c, v in zip(cols, values)) + ")"
                  for label, *values in self.runs.data[cols].itertuples()]
        return heavy_tail_note(z, sigma, nu, labels)

    def standardized_residuals(self) -> np.ndarray:
        """Each run's residual of log response at the posterior medians (sampled discrepancy included), in
        units of sigma (:func:`~bayes_scaling.posterior.predict.standardized_residuals`)."""
        offset = self.discrepancy_draws({c: self.runs.values(c) for c in self.law.inputs.values()})
        return _predict.standardized_residuals(self.law, self.posterior, self.runs, self.structure, offset)

    def discrepancy_draws(self, inputs) -> np.ndarray | None:
        """The discrepancy f (log response) at the inputs (columns of a table or a dict), every draw:
        ``(chain, draw, point)``; None for a fit without one.
        """
        if self.discrepancy is None:
            return None
        train = {c: self.runs.values(c) for c in self.law.inputs.values()}
        return f_draws(self.law, self.discrepancy, self.posterior["posterior"].to_dataset(), train,
                       {c: np.asarray(inputs[c], dtype=float) for c in self.law.inputs.values()})

    def structural_draws(self, inputs) -> np.ndarray | None:
        """The structural term (log response) at the inputs, every draw: ``(chain, draw, point)``
        (one function per posterior draw, the same in every call); None for a fit without one."""
        if self.structural is None:
            return None
        post = self.posterior["posterior"]
        shape = (post.sizes["chain"], post.sizes["draw"])
        values = self.structural.draws(inputs, shape[0] * shape[1], self.seed_or(None))
        return values.reshape(*shape, -1)

    def offset_draws(self, inputs) -> np.ndarray | None:
        """What predictions add to the law at the inputs: the discrepancy and the structural term."""
        parts = [p for p in (self.discrepancy_draws(inputs), self.structural_draws(inputs)) if p is not None]
        return None if not parts else parts[0] if len(parts) == 1 else parts[0] + parts[1]

    def seed_or(self, seed: int | None) -> int:
        """``seed``, or the fit's own seed when None (noise draws are then reproducible)."""
        return int(self.settings.get("seed") or 0) if seed is None else int(seed)

    def __repr__(self) -> str:
        d = self.diagnostics
        gp = " + GP discrepancy" if self.discrepancy is not None else ""
        gp += " + structural term" if self.structural is not None else ""
        return (f"<{type(self).__name__} {self.law.name}{gp}: {len(self.runs)} runs, {self.likelihood} likelihood, "
                f"{d.n_draws} draws, diagnostics {d.verdict}>")


def summary_names(law: LawSpec, likelihood: str, structure: Structure) -> list[str]:
    """The variables a fit's summary shows, in order (see :attr:`FitRecord.parameter_names`)."""
    names = list(law.parameters)
    for p in structure.varying:
        names += [f"{p}_mu" if law.parameters[p].reference is None else ref_name(p) + "_mu", f"{p}_tau"]
    if structure.run_effect:
        names.append("run_sd")
    return names + (["sigma", "nu"] if likelihood == "student_t" else ["sigma"])
