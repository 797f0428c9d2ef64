"""Validated runs + law spec -> a :class:`~bayes_scaling.posterior.record.FitRecord` (NUTS).

:func:`fit` is the one place a posterior is made. Its options come in three groups: the model
(``priors``, ``likelihood``, ``discrepancy``, and the structure of groups and checkpoints in a
:class:`~bayes_scaling.pymc_model.structure.StructureOptions`), the sampler (a
:class:`~bayes_scaling.pymc_model.sampling.SamplerSettings`) and data preparation / storage
(``drop_first``, ``log_likelihood``). The old flat keywords (``draws=``, ``pooled=``, ...) are
still accepted. :func:`refit` is the seam every many-fit workload (law comparison, backtests,
simulation-based calibration) fits through; :func:`fit_options` says how to fit a record again.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..core import progress
from ..core.errors import DiscrepancyError, InputTypeError, TaskError
from ..core.tasks import TaskFailure, run_tasks
from ..data.checkpoints import drop_warmup
from ..data.runs import Runs, check_runs_for_law, load_runs
from ..law.spec import LawSpec, load_law, spec_from_dict
from ..pymc_model._warm import WarmStart
from ..pymc_model.build import collapsed, observed_name, prepare_discrepancy, resolve_likelihood
from ..pymc_model.discrepancy import check as check_discrepancy
from ..pymc_model.sampling import SamplerSettings, run_sampler
from ..pymc_model.structure import Structure, StructureOptions
from . import predict as _predict
from .diagnostics import NU_MIN, diagnose, noise_checks, warn_if_not_ok
from .record import FitRecord
from .structural import fit_structural

__all__ = ["fit", "refit", "fit_options", "complete_tree", "package_versions", "interactive", "resolve_discrepancy",
           "with_structural", "DISCREPANCIES",
           "LOG_LIKELIHOOD_AUTO_MAX", "SAMPLER_KEYWORDS", "STRUCTURE_KEYWORDS"]

LOG_LIKELIHOOD_AUTO_MAX = 5e7  # values (draws x rows) up to which fit() stores the log-likelihood
DISCREPANCIES = ("auto", "modular", "gp", None)
MODULAR_MIN_ROWS = 8  # fewer rows: no structural term (the residuals cannot tell structure from noise)
#: The old flat keywords of :func:`fit`, by the record they now belong to.
SAMPLER_KEYWORDS = ("sampler", "draws", "tune", "chains", "cores", "adaptation", "target_accept", "progress", "remedy",
                    "warm_start", "start")
STRUCTURE_KEYWORDS = tuple(f.name for f in dataclasses.fields(StructureOptions))


def fit(runs, law: str | Path | Mapping | LawSpec = "chinchilla", *, priors=None, likelihood: str = "auto",
        discrepancy: str | None = "auto", seed: int | None = None, structure: StructureOptions | None = None,
        sampling: SamplerSettings | None = None, drop_first: float = 0.1, log_likelihood: bool | None = None,
        **options) -> FitRecord:
    """Fit a scaling law to training runs as a Bayesian model (NUTS).

    Parameters
    ----------
    runs : Runs, DataFrame or path
        Validated runs (:func:`bayes_scaling.load_runs`); a DataFrame or file with canonical
        column names is validated here.
    law : str, path, dict or LawSpec
        A shipped law name (``bayes_scaling.list_laws()``), a TOML spec file, or a spec dict.
    priors : None, str or dict
        ``None`` for the spec's weakly informative defaults, a preset name (e.g.
        ``"hoffmann2022"``, ``"epoch2024"``) or per-parameter prior tables (``"sigma"``/``"nu"``
        for the noise).
    likelihood : {"auto", "student_t", "normal"}
        Observation model of log(response). ``"auto"``: Student-t (robust), except Normal with
        the run offsets integrated out for fits with run effects on at least 20,000 rows
        (:func:`bayes_scaling.pymc_model.build.resolve_likelihood`); the choice and its reason are
        in ``settings["likelihood_choice"]``. Normal fits check their residuals for heavy tails,
        Student-t fits their ``nu`` (``diagnostics.checks``, :class:`~bayes_scaling.ModelCheckWarning`).
    discrepancy : {"auto", "modular", "gp", None}
        What the law's form gets wrong. ``"auto"`` (default): ``"modular"``, a structural term
        fitted to the law's residuals after sampling (:mod:`bayes_scaling.posterior.structural`):
        predictions and every decision carry it, and it widens the intervals beyond the data;
        the law's posterior is unchanged. ``None`` trusts the law's form (the fast, form-trusting
        fit). ``"gp"``: a Gaussian process sampled jointly with the law, orthogonal to it
        (:mod:`bayes_scaling.pymc_model.discrepancy`; tune 2000, target_accept 0.95; predictions
        only). The choice and its reason are in ``settings["discrepancy_choice"]``.
    seed : int, optional
        Random seed (drawn and recorded when not given).
    structure : StructureOptions, optional
        Groups with partial pooling and run effects; also as the keywords ``pooled``,
        ``run_effect``, ``run_centered``, ``group_scale``, ``run_scale``.
    sampling : SamplerSettings, optional
        Draws, tuning, chains, sampler and adaptation; also as the keywords ``draws``, ``tune``,
        ``chains``, ``cores``, ``sampler``, ``target_accept``, ``adaptation``, ``progress``,
        ``warm_start``.
    warm_start : FitRecord, optional (keyword)
        A previous fit of the same model shape (the what-if loop: change a prior, drop a run, refit):
        its posterior's shape starts the sampler's adaptation, tuning defaults to 200 steps, and its
        structural term's hyperparameters start their MAP. The posterior is the same model's, judged
        by the same diagnostics; ``settings["warm_start"]`` says whether it was used and why not.
    drop_first : float
        With checkpoints, the fraction of each run's first steps dropped (warm-up), counted in
        ``runs.dropped``; 0 keeps everything.
    log_likelihood : bool, optional
        Store the pointwise log-likelihood (for PSIS-LOO). Default: when it has at most 5e7 values;
        larger fits compute it on demand (``with_log_likelihood``).

    Returns
    -------
    FitRecord
        Warns at once (:class:`~bayes_scaling.SamplerWarning`) if the diagnostics are not ok.
    """
    resolve_likelihood(likelihood, None, 0)  # a bad name fails before any work
    structure, sampling = _grouped_options(structure, sampling, seed, options)
    previous, sampling = _warm_source(sampling)
    spec = load_law(law).with_priors(priors)
    runs = runs if isinstance(runs, Runs) else load_runs(runs)
    if drop_first and runs.has("run"):
        runs = drop_warmup(runs, drop_first)  # checkpoint warm-up; counted in runs.dropped
    resolved = structure.resolve(runs, spec)
    check_runs_for_law(runs, inputs=spec.columns, response=spec.response, n_params=spec.n_params, law=spec.name)
    likelihood, choice = resolve_likelihood(likelihood, resolved, len(runs))
    discrepancy, disc_choice = resolve_discrepancy(discrepancy, len(runs))
    check_discrepancy("gp" if discrepancy == "gp" else None, spec, resolved)
    disc = prepare_discrepancy(spec, runs, likelihood) if discrepancy == "gp" else None
    sampling.validate()
    if disc is not None:  # else the sampler's defaults (1000 and 0.9; shorter after a warm or Laplace start)
        sampling = replace(sampling, tune=sampling.tune or 2000, target_accept=sampling.target_accept or 0.95)
    sampling = replace(sampling, progress=interactive() if sampling.progress is None else sampling.progress)
    trace, used, remedy, resolved, conflict, first = _sample(spec, runs, likelihood, sampling, resolved, disc)
    sampled = list(trace["posterior"].data_vars)
    if collapsed(resolved, likelihood):  # the sampler integrated the run offsets out: draw them now
        effects = _predict.run_effect_draws(spec, trace, runs, resolved, seed=[int(used.seed), 1])
        trace["posterior"] = type(trace)(trace["posterior"].to_dataset().assign(run_effect=effects))
    posterior = complete_tree(trace, spec, runs, likelihood, resolved, log_likelihood=False)
    names = [v for v in trace["posterior"].data_vars if v in posterior["posterior"].data_vars]
    record = FitRecord(posterior=posterior, runs=runs, law=spec, likelihood=likelihood,
                       settings={**used.to_dict(), "likelihood_choice": choice, "discrepancy_choice": disc_choice,
                                 "remedy": remedy, **_warm_note(previous, used)},
                       diagnostics=first if first is not None and names == sampled else diagnose(posterior, names),
                       versions=package_versions(),
                       timings=dict(used.timings), structure=resolved, discrepancy=disc, warm_state=used.warm_state)
    if log_likelihood is None:
        log_likelihood = used.chains * used.draws * len(runs) <= LOG_LIKELIHOOD_AUTO_MAX
    offsets = [f"run offsets dropped by the remedy, because {conflict}{RUN_CONFLICT_COST}"] if conflict else []
    record = _checked(record.with_log_likelihood() if log_likelihood else record, offsets)
    if discrepancy != "modular":
        return record
    with progress.phase("fitting the structural term to the law's residuals"):
        return with_structural(record, start=getattr(previous, "structural", None))


def _warm_source(sampling: SamplerSettings):
    """``(the previous fit or None, sampling with its warm start as a WarmStart or None)``."""
    previous = sampling.warm_start
    if previous is None or isinstance(previous, WarmStart):
        return None, sampling
    if not isinstance(previous, FitRecord):
        raise InputTypeError(f"warm_start must be a previous fit, got {type(previous).__name__}")
    return previous, replace(sampling, warm_start=previous.warm_state)


def _warm_note(previous, used: SamplerSettings) -> dict[str, str]:
    """The fit's ``settings["warm_start"]`` entry (none when no warm start was asked for), and its
    ``settings["laplace"]`` entry (what the Laplace start did, when it was used or failed)."""
    laplace = used.warm_note.startswith("laplace")
    out = {"laplace": used.warm_note} if laplace else {}
    if previous is None and (laplace or not used.warm_note):
        return out
    if previous is not None and previous.warm_state is None:
        return {**out, "warm_start": "not used: the previous fit carries no posterior shape (loaded from a file, "
                                     "or sampled with PyMC)"}
    if laplace and used.start == "laplace":
        return {**out, "warm_start": "not used: the Laplace start replaced the previous posterior's shape (more "
                                     "than 30 parameters)"}
    return {**out, "warm_start": used.warm_note}


def _sample(spec, runs, likelihood, sampling: SamplerSettings, structure, disc):
    """Sample, and when the first run is flagged (and ``sampling.remedy``), once more with the remedy
    (:meth:`SamplerSettings.remedied`; without run offsets when they conflict with the law,
    :func:`run_offset_conflict`): ``(trace, settings used, what was done, structure used, the conflict,
    the diagnostics of the trace's posterior variables when it is the first run's, else None)``."""
    trace, used = run_sampler(spec, runs, likelihood, sampling, structure, disc)
    first = diagnose(trace, list(trace["posterior"].data_vars))
    if first.ok or not sampling.remedy:
        return trace, used, "", structure, "", first
    conflict = run_offset_conflict(trace, structure)
    # without the offsets the model changes: the remedy starts from the asked settings, not the first
    # run's coordinates (a Laplace start's diagonal adaptation would not suit the law alone)
    again = (sampling if conflict else used).remedied(first.divergences)
    if conflict:
        structure = replace(structure, run_effect=False, runs=(), run_centered=False)
    progress.note(f"first run {first.verdict.upper()}: sampling again with tune={again.tune}, draws={again.draws}, "
                  f"target_accept={again.target_accept:g}" + (", without run offsets" if conflict else ""))
    trace, second = run_sampler(spec, runs, likelihood, again, structure, disc)
    second.timings.update({f"first_{k}": v for k, v in used.timings.items()})
    note = (f"the first run was {first.verdict.upper()} ({'; '.join(p.split(':')[0] for p in first.problems)}): "
            f"sampled again with tune={again.tune}, draws={again.draws}, target_accept={again.target_accept:g}"
            + (", and without run offsets (they conflict with the law: see the model check)" if conflict else "")
            + " (remedy=False keeps the first run)")
    return trace, second, note, structure, conflict, None


#: Run offsets whose scale is this many times its prior's are in conflict with the law (see below).
RUN_CONFLICT = 3.0
RUN_CONFLICT_COST = ("; so each checkpoint counts as independent evidence: the law's own intervals are too "
                     "narrow, and the structural term carries what the law misses")


def run_offset_conflict(trace, structure) -> str:
    """Why the run offsets conflict with the law, or ``""``: their scale ``run_sd`` is far above its
    prior's (:data:`RUN_CONFLICT` times). Then the law cannot explain the runs' levels and the shapes of
    their curves at once, per-run offsets take over its between-run terms (a run's offset and its model
    size's term are one number), and the sampler wanders along that ridge. Measured on gemstones'
    constant-LR checkpoints: run_sd 0.21 against a prior scale of 0.05, R-hat 1.58 on alpha."""
    post = trace["posterior"]
    if structure is None or not structure.run_effect or "run_sd" not in post:
        return ""
    sd = float(np.median(post["run_sd"].values))
    if sd <= RUN_CONFLICT * structure.run_scale:
        return ""
    return (f"the run offsets' scale run_sd = {sd:.2g} is {sd / structure.run_scale:.0f}x its prior's "
            f"({structure.run_scale:g} on the log scale): the law cannot explain the runs' levels and their "
            "curves' shapes at once, and the offsets took over its between-run terms")


def resolve_discrepancy(discrepancy, n_rows: int) -> tuple[str | None, str]:
    """The discrepancy a fit uses, and why: ``(None | "modular" | "gp", reason)``."""
    if discrepancy not in DISCREPANCIES:
        raise DiscrepancyError(f"discrepancy must be one of {DISCREPANCIES}, got {discrepancy!r}")
    if discrepancy != "auto":
        return discrepancy, "as requested" if discrepancy else "as requested: the law's form is trusted"
    if n_rows < MODULAR_MIN_ROWS:
        return None, (f"auto: {n_rows} rows are too few for a structural term (fewer than {MODULAR_MIN_ROWS}); "
                      "the law's form is trusted")
    return "modular", ("auto: the law plus a structural term fitted to its residuals (what the form gets "
                       "wrong); discrepancy=None trusts the form")


def with_structural(record: FitRecord, start=None) -> FitRecord:
    """The record with its structural term fitted to the residuals of log response at the posterior
    median law (:mod:`bayes_scaling.posterior.structural`); the law's posterior is not changed.
    ``start``: a previous fit's structural term, whose hyperparameters start the MAP (a warm refit)."""
    spec, runs = record.law, record.runs
    cols = tuple(spec.inputs.values())
    sigma = float(record.posterior["posterior"]["sigma"].median())
    z = _predict.standardized_residuals(spec, record.posterior, runs, record.structure)
    term = fit_structural(cols, runs.flops_per_token, {c: runs.values(c) for c in cols}, z * sigma, sigma,
                          seed=record.seed_or(None), start=start)
    return replace(record, structural=term)


def _grouped_options(structure: StructureOptions | None, sampling: SamplerSettings | None, seed: int | None,
                     options: Mapping[str, Any]) -> tuple[StructureOptions, SamplerSettings]:
    """The structure and sampler records of a fit, with the old flat keywords applied on top."""
    unknown = sorted(set(options) - set(SAMPLER_KEYWORDS) - set(STRUCTURE_KEYWORDS))
    if unknown:
        raise InputTypeError(f"fit() got unexpected keyword argument(s) {unknown}; sampler settings: "
                        f"{', '.join(SAMPLER_KEYWORDS)}; structure: {', '.join(STRUCTURE_KEYWORDS)}")
    structure = replace(structure or StructureOptions(), **{k: options[k] for k in STRUCTURE_KEYWORDS if k in options})
    sampling = replace(sampling or SamplerSettings(), **{k: options[k] for k in SAMPLER_KEYWORDS if k in options})
    if seed is not None:
        sampling = replace(sampling, seed=seed)
    return structure, sampling


def _checked(record: FitRecord, extra: list[str] = ()) -> FitRecord:
    """The record with its model checks (``extra``, and noise against the likelihood) added, warned about
    at once."""
    diag, spec = record.diagnostics, record.law
    nu = float(record.posterior["posterior"]["nu"].median()) if record.likelihood == "student_t" else None
    if record.likelihood == "normal" or (nu is not None and nu < NU_MIN):  # the noise checks (residuals: ms)
        diag = replace(diag, checks=noise_checks(record.standardized_residuals(), record.likelihood, nu))
    if extra:
        diag = replace(diag, checks=[*extra, *diag.checks])
    progress.note(f"diagnostics: {diag.verdict.upper()}")
    warn_if_not_ok(diag, spec.name)
    return replace(record, diagnostics=diag)


def refit(runs, law, **kwargs) -> FitRecord:
    """The seam every many-fit workload fits through (compare's leave-largest-out, backtest folds,
    SBC simulations): :func:`fit` without a progress bar. Tests replace it with a mock sampler.
    """
    kwargs.setdefault("progress", False)
    return fit(runs, law, **kwargs)


def refit_many(jobs: Mapping[str, tuple[Runs, LawSpec, Mapping[str, Any]]], executor=None,
               what: str = "fit") -> dict[str, tuple[FitRecord, list]]:
    """:func:`refit` of each job ``(runs, law, keywords)`` (in this process, one after the other, or on
    ``executor``): ``{key: (record, [(warning category, message), ...])}``. A task that fails twice on
    the executor raises :class:`~bayes_scaling.core.errors.TaskError` naming it (``what`` and key)."""
    tasks = [{"key": key, "runs": runs, "law": law.to_json(), "kwargs": dict(kwargs)}
             for key, (runs, law, kwargs) in jobs.items()]
    out = {}
    for task, result in zip(tasks, run_tasks(refit_task, tasks, executor=executor)):
        if isinstance(result, TaskFailure):
            raise TaskError(f"{what} {task['key']!r} ({len(task['runs'])} runs) failed {result.attempts} times "
                            f"on the executor: {result.error}")
        out[task["key"]] = result
    return out


def refit_task(task: Mapping[str, Any]) -> tuple[FitRecord, list]:
    """One fit of a many-fit workload from plain data (runs, the law spec as JSON, keywords), as a worker
    runs it: the record and the warnings its fit raised, as (category, message) pairs."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record = refit(task["runs"], spec_from_dict(json.loads(task["law"])), **task["kwargs"])
    return record, [(w.category, str(w.message)) for w in caught]


def fit_options(record: FitRecord) -> dict[str, Any]:
    """``law`` and keywords of :func:`refit` that fit ``record``'s law again, the same way (priors,
    likelihood, discrepancy, structure, sampler settings and seed), on runs already prepared
    (``drop_first=0``: the record's runs are trimmed of checkpoint warm-up already).
    """
    s, st = record.settings, record.structure
    keys = ("draws", "chains", "seed", "sampler", "cores", "start")
    if s.get("start") != "laplace":  # else the refit's own Laplace start chooses them again
        keys += ("tune", "target_accept", "adaptation")
    out: dict[str, Any] = {k: s[k] for k in keys if s.get(k) is not None}
    out.update(law=record.law, likelihood=record.likelihood, drop_first=0,
               discrepancy="gp" if record.discrepancy is not None else
               "modular" if record.structural is not None else None,
               pooled=list(st.varying) or None, run_effect=st.run_effect, group_scale=st.group_scale,
               run_scale=st.run_scale)
    return out


def package_versions() -> dict[str, str]:
    """Versions of the packages a fit depends on (recorded with every fit)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("bayes-scaling", "pymc", "pytensor", "nutpie", "arviz", "arviz-base", "arviz-stats",
                "numpy", "pandas", "xarray", "scipy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def interactive() -> bool:
    """Whether output goes to a person: a Jupyter kernel or a terminal (not CI, not a file)."""
    import os
    import sys

    if os.environ.get("CI"):
        return False
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


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
