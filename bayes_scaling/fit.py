"""Validated runs + law spec -> :class:`Fit` (posterior DataTree with its spec and data).

``Fit`` is a thin record: every method delegates to a plain function in the
module that owns the step (diagnostics, predict, io).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import predict as _predict
from .diagnostics import NU_MIN, Diagnostics, diagnose, noise_checks, summarize, warn_if_not_ok
from .discrepancy import Discrepancy, check as check_discrepancy, f_draws, prepare as prepare_discrepancy
from .hierarchy import Structure, drop_warmup, resolve_structure
from .laws import LawSpec, load_law
from .model import collapsed, observed_name, ref_name, resolve_likelihood
from .runs import Runs, check_runs_for_law, load_runs
from .sampling import SamplerSettings, run_sampler

__all__ = ["Fit", "fit", "fit_separately", "package_versions"]

LOG_LIKELIHOOD_AUTO_MAX = 5e7  # values (draws x rows) up to which fit() stores the log-likelihood


@dataclass(frozen=True, eq=False, repr=False)
class Fit:
    """A fitted scaling law: posterior, runs, law spec (with priors) and settings.

    Attributes
    ----------
    posterior : xarray.DataTree
        ArviZ 1.x DataTree with groups ``posterior``, ``sample_stats``,
        ``observed_data``, ``constant_data`` and ``log_likelihood`` (the last one
        only after :meth:`with_log_likelihood` when the fit was too large for it to
        be computed up front; see :func:`fit`).
    runs : Runs
        The validated runs table the law was fitted to.
    law : LawSpec
        The law, with the priors actually used.
    likelihood : str
        ``"student_t"`` or ``"normal"`` (on log of the response).
    settings : dict
        Sampler settings, including the seed actually used.
    diagnostics : Diagnostics
        Divergences, R-hat, ESS and a verdict.
    structure : Structure
        Parameters varying by group and run effects (:mod:`bayes_scaling.hierarchy`).
    discrepancy : Discrepancy or None
        The GP discrepancy orthogonal to the law, for ``fit(..., discrepancy="gp")``
        (:mod:`bayes_scaling.discrepancy`); predictions include it.
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

    @property
    def parameter_names(self) -> list[str]:
        """The law's parameters on their natural scale (per group where they vary), the
        population centres and between-group scales, the run-effect scale, then the noise."""
        names = summary_names(self.law, self.likelihood, self.structure)
        return names + (["gp_ls", "gp_eta"] if self.discrepancy is not None else [])

    @property
    def groups(self) -> list[str]:
        """Group labels when parameters vary by group (else empty)."""
        return list(self.structure.groups)

    def for_group(self, group: str) -> "Fit":
        """This fit seen from one group: its parameter draws and its runs, as an ordinary fit.

        Every method then works per group, e.g. ``fit.for_group("llama").allocate(1e24)``.
        """
        if not self.structure.varying:
            raise ValueError("this fit has no per-group parameters (fit with pooled=[...] and a 'group' column)")
        if str(group) not in self.structure.groups:
            raise ValueError(f"unknown group {group!r}; groups: {list(self.structure.groups)}")
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

    def with_log_likelihood(self) -> "Fit":
        """This fit with the pointwise ``log_likelihood`` group (for LOO), computed now if missing."""
        if "log_likelihood" not in self.posterior.children:
            import xarray as xr

            self.posterior["log_likelihood"] = xr.DataTree(_predict.log_likelihood(
                self.law, self.posterior, self.runs, self.likelihood, self.structure,
                offset=self.discrepancy_draws({c: self.runs.values(c) for c in self.law.inputs.values()})))
        return self

    def summary(self, prob: float = 0.9) -> pd.DataFrame:
        """Posterior summary of every parameter (mean, sd, median, interval, ESS, R-hat)."""
        return summarize(self.posterior, self.parameter_names, prob)

    def predict_draws(self, N=None, D=None, C=None, *, kind: str = "mean", seed: int | None = None,
                      group: str | None = None, **inputs):
        """Posterior draws of the response at the given inputs: DataArray ``(chain, draw, point)``."""
        if group is not None or self.structure.varying:
            return self._group_fit(group).predict_draws(N, D, C, kind=kind, seed=seed, **inputs)
        table = _predict.resolve_inputs(self.law, self.runs.flops_per_token, {"N": N, "D": D, "C": C, **inputs})
        return _predict.predict_draws(self.law, self.posterior, table, kind=kind,
                                      likelihood=self.likelihood, seed=self._seed(seed),
                                      offset=self.discrepancy_draws(table))

    def predict(self, N=None, D=None, C=None, *, prob: float = 0.9, kind: str = "mean",
                seed: int | None = None, group: str | None = None, **inputs) -> pd.DataFrame:
        """Credible intervals of the response at new inputs, over all posterior draws.

        Parameters
        ----------
        N, D, C : float or array-like, optional
            Model size, training tokens, training FLOPs: any two of them for a
            law of N and D (the third from C = k·N·D). Other law inputs (e.g.
            ``step=``, ``loss=``) by their runs-table column name.
        prob : float
            Probability mass of the equal-tailed interval.
        kind : {"mean", "predictive"}
            ``"mean"``: uncertainty of the law only. ``"predictive"``: plus the
            run-to-run noise (what a new training run would show).
        seed : int, optional
            Seed of the noise draws for ``kind="predictive"`` (default: the fit's seed).
        group : str, optional
            The group (family) to predict for, when parameters vary by group.

        Returns
        -------
        pandas.DataFrame
            The inputs, ``<response>_median``, ``<response>_lower``,
            ``<response>_upper`` and ``decades_beyond_data``.
        """
        if group is not None or self.structure.varying:
            return self._group_fit(group).predict(N, D, C, prob=prob, kind=kind, seed=seed, **inputs)
        table = _predict.resolve_inputs(self.law, self.runs.flops_per_token, {"N": N, "D": D, "C": C, **inputs})
        draws = _predict.predict_draws(self.law, self.posterior, table, kind=kind,
                                       likelihood=self.likelihood, seed=self._seed(seed),
                                       offset=self.discrepancy_draws(table))
        frame = _predict.predict_frame(draws, table, self.law.response, prob, self.observed_ranges())
        frame.attrs["kind"] = kind
        return frame

    # ---------------------------------------------------------------- decisions (see decisions.py)
    def allocate(self, C, *, prob: float = 0.9, flops_per_token: float | None = None, method: str = "auto",
                 **fixed) -> pd.DataFrame:
        """Compute-optimal N, D, tokens per parameter and loss per budget C, with intervals.

        See :func:`bayes_scaling.decisions.allocate`.
        """
        from .decisions import allocate

        return allocate(self, C, prob=prob, flops_per_token=flops_per_token, method=method, **fixed)

    def allocate_draws(self, C, *, flops_per_token: float | None = None, method: str = "auto", **fixed):
        """Posterior draws of the allocation (Dataset ``chain, draw, budget``); see :mod:`decisions`."""
        from .decisions import allocate_draws

        return allocate_draws(self, C, flops_per_token=flops_per_token, method=method, **fixed)

    def prob_below(self, target, N=None, D=None, C=None, **inputs) -> pd.DataFrame:
        """P(trained model's loss < target), run-to-run noise included; see :mod:`decisions`."""
        from .decisions import prob_below

        return prob_below(self, target, N=N, D=D, C=C, **inputs)

    def compute_for_target(self, target, prob: float = 0.9, **kwargs) -> pd.DataFrame:
        """Compute (and plan) so that loss <= target with probability ``prob``; see :mod:`decisions`."""
        from .decisions import compute_for_target

        return compute_for_target(self, target, prob, **kwargs)

    def compare_plans(self, plans, *, prob: float = 0.9, **kwargs) -> pd.DataFrame:
        """Loss, P(best) and regret vs the compute-optimal plan, per plan; see :mod:`decisions`."""
        from .decisions import compare_plans

        return compare_plans(self, plans, prob=prob, **kwargs)

    def data_for_overfitting(self, N, max_penalty: float = 0.02, *, prob: float = 0.9) -> pd.DataFrame:
        """Tokens D keeping L(N,D)/L(N,inf) - 1 <= max_penalty (Kaplan); see :mod:`kaplan`."""
        from .kaplan import data_for_overfitting

        return data_for_overfitting(self, N, max_penalty, prob=prob)

    # ---------------------------------------------------------------- families (see families.py)
    def compare_groups(self, N=None, D=None, C=None, *, prob: float = 0.9, **inputs) -> pd.DataFrame:
        """Per pair of groups: loss difference, P(A better), parameter gaps; see :mod:`families`."""
        from .families import compare_groups

        return compare_groups(self, N, D, C, prob=prob, **inputs)

    def rank_groups(self, N=None, D=None, C=None, *, prob: float = 0.9, **inputs) -> pd.DataFrame:
        """Per group: loss, P(best), expected rank; see :mod:`families`."""
        from .families import rank_groups

        return rank_groups(self, N, D, C, prob=prob, **inputs)

    def group_offsets(self, reference: str, *, prob: float = 0.9) -> pd.DataFrame:
        """Each group's loss offset from a reference group (e.g. eval sets); see :mod:`families`."""
        from .families import group_offsets

        return group_offsets(self, reference, prob=prob)

    def observed_ranges(self) -> dict[str, tuple[float, float]]:
        """(min, max) of each numeric input column in the data (N, D, C when present)."""
        cols = set(self.law.inputs.values()) | ({"N", "D", "C"} & set(self.runs.data.columns))
        return {c: (float(self.runs.values(c).min()), float(self.runs.values(c).max())) for c in sorted(cols)}

    def report(self, path: str | Path, budgets=None, target_loss=None, plans=None, prob: float = 0.9,
               title: str | None = None, compare_with=None) -> Path:
        """Write a self-contained HTML report (or Markdown with a ``.md`` path); see :mod:`report`.

        ``budgets`` in FLOPs (default: 10x and 100x the largest observed compute),
        ``target_loss`` adds the compute needed for it, ``plans`` compares
        training plans, ``compare_with`` other fits of the same runs.
        """
        from .report import write_report

        return write_report(self, path, budgets=budgets, target_loss=target_loss, plans=plans, prob=prob,
                            title=title, compare_with=compare_with)

    def save(self, path: str | Path) -> Path:
        """Write the fit (posterior, runs, law spec, priors, versions) to NetCDF; no pickle."""
        from .io import save_fit

        return save_fit(self, path)

    def discrepancy_draws(self, inputs) -> np.ndarray | None:
        """The discrepancy f (log response) at the inputs (columns of a table or a dict), every draw:
        ``(chain, draw, point)``; None for a fit without one."""
        if self.discrepancy is None:
            return None
        train = {c: self.runs.values(c) for c in self.law.inputs.values()}
        return f_draws(self.law, self.discrepancy, self.posterior["posterior"].to_dataset(), train,
                       {c: np.asarray(inputs[c], dtype=float) for c in self.law.inputs.values()})

    def _group_fit(self, group) -> "Fit":
        if group is None:
            raise ValueError(f"this fit's parameters vary by group: pass group= one of {self.groups}")
        return self.for_group(group)

    def _seed(self, seed: int | None) -> int:
        return int(self.settings.get("seed") or 0) if seed is None else int(seed)

    def __repr__(self) -> str:
        d = self.diagnostics
        gp = " + GP discrepancy" if self.discrepancy is not None else ""
        return (f"<Fit {self.law.name}{gp}: {len(self.runs)} runs, {self.likelihood} likelihood, "
                f"{d.n_draws} draws, diagnostics {d.verdict}>")

    def _repr_html_(self) -> str:
        from .notebook import fit_html

        return fit_html(self)


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("bayes-scaling", "pymc", "pytensor", "nutpie", "arviz", "arviz-base", "arviz-stats",
                "numpy", "pandas", "xarray", "scipy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def fit(runs, law: str | Path | Mapping | LawSpec = "chinchilla", *, priors=None,
        likelihood: str = "auto", draws: int = 1000, tune: int | None = None, chains: int = 4,
        seed: int | None = None, progress: bool | None = None, sampler: str = "nutpie",
        target_accept: float | None = None, adaptation: str = "low_rank", cores: int | None = None,
        pooled: str | list[str] | None = None, run_effect: bool | None = None, drop_first: float = 0.1,
        group_scale: float = 0.2, run_scale: float = 0.05, run_centered: bool | None = None,
        log_likelihood: bool | None = None, discrepancy: str | None = None) -> Fit:
    """Fit a scaling law to training runs as a Bayesian model (NUTS).

    Parameters
    ----------
    runs : Runs, DataFrame or path
        Validated runs (:func:`bayes_scaling.load_runs`); a DataFrame or file
        with canonical column names is validated here.
    law : str, path, dict or LawSpec
        A shipped law name (see ``bayes_scaling.list_laws()``), a TOML spec
        file, or a spec dict.
    priors : None, str or dict
        ``None`` for the spec's weakly informative defaults, a preset name
        (e.g. ``"hoffmann2022"``, ``"epoch2024"``, ``"kaplan2020"``) or a dict
        of per-parameter prior tables (``"sigma"``/``"nu"`` for the noise).
    likelihood : {"auto", "student_t", "normal"}
        Observation model of log(response); Student-t is robust to outliers.
        With run effects (checkpoints), Normal noise lets the sampler integrate the
        per-run offsets out exactly (:func:`bayes_scaling.model.collapsed`), which is
        much faster on large checkpoint tables. ``"auto"`` (default): Student-t, except
        Normal for fits with run effects on at least 20,000 rows
        (:func:`bayes_scaling.model.resolve_likelihood`); the choice and its reason are in
        ``fit.settings["likelihood_choice"]``, and a Normal fit checks its residuals for
        heavier tails, a Student-t fit its ``nu`` for tails beyond Cauchy's (a law that misfits
        part of the runs) (``fit.diagnostics.checks``, with a :class:`bayes_scaling.ModelCheckWarning`).
    draws, tune, chains : int
        Posterior draws and warm-up steps per chain, and number of chains. ``tune``
        defaults to 1000, and 2000 with ``discrepancy="gp"`` (its length scales need it).
    seed : int, optional
        Random seed (drawn and recorded when not given).
    progress : bool, optional
        Show the sampler's progress bar; default: on in notebooks and terminals,
        off when output goes to a file or a CI log.
    sampler : {"nutpie", "pymc"}
        nutpie (compiled, fast; default) or PyMC's own NUTS.
    target_accept : float
        NUTS target acceptance (default 0.9, and 0.95 with ``discrepancy="gp"``, whose
        amplitude can shrink towards zero when the law fits); raise to ~0.95 if there are
        divergences.
    adaptation : {"low_rank", "diag"}
        nutpie's mass-matrix adaptation (low-rank is faster on these posteriors).
    pooled : list of str, "all" or None
        Law parameters that vary by ``group`` with partial pooling (see
        :mod:`bayes_scaling.hierarchy`); None or ``[]``: one value for all
        groups. For fully separate fits use :func:`fit_separately`.
    run_effect : bool, optional
        A random offset in log loss per ``run`` (checkpoints of one run are
        correlated). Default: on when some run has several rows.
    drop_first : float
        With checkpoints, the fraction of each run's first steps dropped
        (warm-up); counted in ``fit.runs.dropped``. 0 keeps everything.
    group_scale, run_scale : float
        HalfNormal scales of the between-group spread (log scale for positive
        parameters) and of the run effect (log loss).
    run_centered : bool, optional
        Sample the run offsets centred (``run_effect ~ Normal(0, run_sd)``)
        instead of non-centred (``run_sd * run_z``). Default: centred when the
        median run has at least 10 rows (then the data pin each offset down and
        the non-centred form mixes badly).
    log_likelihood : bool, optional
        Store the pointwise log-likelihood (draws x rows, for PSIS-LOO) in the
        posterior. Default: when it has at most 5e7 values (400 MB); larger fits
        (e.g. 10^5 checkpoint rows) compute it when needed
        (:meth:`Fit.with_log_likelihood`, which :func:`bayes_scaling.compare` calls).
    discrepancy : {None, "gp"}
        ``"gp"``: add a Gaussian-process model discrepancy over the log inputs, orthogonal
        to the law (:mod:`bayes_scaling.discrepancy`), for laws of one or two inputs without
        groups or run effects. Its predictive intervals allow for the law's form being off
        beyond the data (Epoch's backtest: 91% coverage of 90% intervals against 61%);
        decisions that optimise the law (``allocate`` and the like) refuse such a fit.

    Returns
    -------
    Fit
        Warns at once (:class:`SamplerWarning`) if the diagnostics are not ok.
    """
    resolve_likelihood(likelihood, None, 0)  # a bad name fails before any work
    spec = load_law(law).with_priors(priors)
    if not isinstance(runs, Runs):
        runs = load_runs(runs)
    if drop_first and runs.has("run"):
        runs = drop_warmup(runs, drop_first)  # checkpoint warm-up; counted in runs.dropped
    structure = resolve_structure(runs, spec, pooled, run_effect, group_scale=group_scale, run_scale=run_scale,
                                  run_centered=run_centered)
    check_runs_for_law(runs, inputs=spec.columns, response=spec.response, n_params=spec.n_params,
                       law=spec.name)
    likelihood, choice = resolve_likelihood(likelihood, structure, len(runs))
    check_discrepancy(discrepancy, spec, structure)
    disc = prepare_discrepancy(spec, runs, likelihood) if discrepancy else None
    if tune is None:
        tune = 1000 if disc is None else 2000
    if target_accept is None:
        target_accept = 0.9 if disc is None else 0.95
    if progress is None:
        progress = interactive()
    settings = SamplerSettings(sampler=sampler, draws=draws, tune=tune, chains=chains, cores=cores,
                               seed=seed, adaptation=adaptation, target_accept=target_accept,
                               progress=progress)
    trace, used = run_sampler(spec, runs, likelihood, settings, structure, disc)
    if collapsed(structure, likelihood):  # the sampler integrated the run offsets out: draw them now
        effects = _predict.run_effect_draws(spec, trace, runs, structure, seed=[int(used.seed), 1])
        trace["posterior"] = type(trace)(trace["posterior"].to_dataset().assign(run_effect=effects))
    if log_likelihood is None:
        log_likelihood = chains * draws * len(runs) <= LOG_LIKELIHOOD_AUTO_MAX
    posterior = complete_tree(trace, spec, runs, likelihood, structure, log_likelihood=False)
    names = [v for v in trace["posterior"].data_vars if v in posterior["posterior"].data_vars]
    fitted = Fit(posterior=posterior, runs=runs, law=spec, likelihood=likelihood,
                 settings={**used.to_dict(), "likelihood_choice": choice}, diagnostics=diagnose(posterior, names),
                 versions=package_versions(), timings=dict(used.timings), structure=structure, discrepancy=disc)
    if log_likelihood:
        fitted.with_log_likelihood()
    diag = fitted.diagnostics
    nu = float(posterior["posterior"]["nu"].median()) if likelihood == "student_t" else None
    if likelihood == "normal" or (nu is not None and nu < NU_MIN):  # the noise checks (residuals: ms)
        offset = fitted.discrepancy_draws({c: runs.values(c) for c in spec.inputs.values()})
        diag = replace(diag, checks=noise_checks(
            _predict.standardized_residuals(spec, posterior, runs, structure, offset), likelihood, nu))
    warn_if_not_ok(diag, spec.name)
    return replace(fitted, diagnostics=diag)


def interactive() -> bool:
    """Whether output goes to a person: a Jupyter kernel or a terminal (not CI, not a file)."""
    import os
    import sys

    if os.environ.get("CI"):
        return False
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def fit_separately(runs, law="chinchilla", **kwargs) -> dict[str, Fit]:
    """One independent fit per ``group`` (no pooling at all): ``{group: Fit}``."""
    if not isinstance(runs, Runs):
        runs = load_runs(runs)
    if not runs.has("group"):
        raise ValueError("fit_separately needs a 'group' column in the runs table")
    labels = runs.data["group"].astype(str)
    return {str(g): fit(replace(runs, data=runs.data.loc[(labels == g).to_numpy()]), law, **kwargs)
            for g in pd.unique(labels)}


def summary_names(law: LawSpec, likelihood: str, structure: Structure) -> list[str]:
    names = list(law.parameters)
    for p in structure.varying:
        names += [f"{p}_mu" if law.parameters[p].reference is None else ref_name(p) + "_mu", f"{p}_tau"]
    if structure.run_effect:
        names.append("run_sd")
    return names + (["sigma", "nu"] if likelihood == "student_t" else ["sigma"])


def complete_tree(trace, law: LawSpec, runs: Runs, likelihood: str, structure: Structure | None = None, *,
                  log_likelihood: bool = True):
    """Add observed_data, constant_data and (optionally) log_likelihood groups to a sampled trace."""
    import xarray as xr

    obs = np.arange(len(runs))
    tree = trace.copy()
    y = runs.values(law.response)
    tree["observed_data"] = xr.DataTree(xr.Dataset(
        {f"{observed_name(law)}_obs": ("obs", np.log(y)), law.response: ("obs", y)}, coords={"obs": obs}))
    const = {col: ("obs", runs.values(col)) for col in law.inputs.values()}
    if structure is not None and structure.varying:
        const["group"] = ("obs", runs.values("group").astype(str))
    if structure is not None and structure.run_effect:
        const["run"] = ("obs", runs.values("run").astype(str))
    tree["constant_data"] = xr.DataTree(xr.Dataset(const, coords={"obs": obs}))
    if log_likelihood:
        tree["log_likelihood"] = xr.DataTree(_predict.log_likelihood(law, tree, runs, likelihood, structure))
    return tree
