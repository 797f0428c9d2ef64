"""The top of the package: :class:`Fit` and the functions that return one.

``Fit`` is a :class:`~bayes_scaling.posterior.record.FitRecord` (posterior, runs, law, settings,
with its predictions) plus one-line methods into the layers that own each step: decisions,
group comparisons, the report, saving. No module below this one imports ``Fit``; they take the
record.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path

import pandas as pd

from .checks import backtest as backtest_check
from .checks import isoflop as isoflop_check
from .core.errors import InputError
from .core.files import atomic_write
from .core.intervals import DEFAULT_PROB, as_table
from .data.runs import Runs, load_runs
from .decisions import allocation, budget, design, frontier, groups, lifetime, recommendation
from .law.spec import LawSpec, load_law
from .posterior import inference, io
from .posterior.record import FitRecord
from .pymc_model.sampling import SamplerSettings
from .pymc_model.structure import StructureOptions
from .report import notebook, render

__all__ = ["Fit", "fit", "fit_separately", "load_fit", "backtest", "plan"]


class Fit(FitRecord):
    """A fitted scaling law: posterior, runs, law spec (with priors), settings and diagnostics.

    Made by :func:`bayes_scaling.fit` or :func:`bayes_scaling.load_fit`. The attributes and the
    prediction methods (``summary``, ``predict``, ``predict_draws``, ``for_group``, ...) are those of
    :class:`~bayes_scaling.posterior.record.FitRecord`; the methods below are the decisions, the
    group comparisons, the report and saving.
    """

    @classmethod
    def from_record(cls, record: FitRecord) -> Fit:
        """The ``Fit`` of a fit record (e.g. a backtest fold's fit)."""
        return record if isinstance(record, cls) else cls(**{f.name: getattr(record, f.name) for f in fields(record)})

    # ---------------------------------------------------------------- decisions
    def allocate(self, C=None, *, prob: float = DEFAULT_PROB, flops_per_token: float | None = None,
                 method: str = "auto", **fixed) -> pd.DataFrame:
        """Compute-optimal N, D, tokens per parameter and loss per budget C, with intervals; budgets in
        GPU-hours or money, a cost model, inference demand (:func:`bayes_scaling.decisions.allocate`).
        """
        return as_table(allocation.allocate(self, C, prob=prob, flops_per_token=flops_per_token, method=method,
                                            **fixed))

    def allocate_draws(self, C=None, *, flops_per_token: float | None = None, method: str = "auto", **fixed):
        """Posterior draws of the allocation, Dataset ``(chain, draw, budget)``
        (:func:`bayes_scaling.decisions.allocate_draws`).
        """
        return allocation.allocate_draws(self, C, flops_per_token=flops_per_token, method=method, **fixed)

    def lifetime_plan(self, target_loss, inference_tokens, *, prob: float = DEFAULT_PROB, **kwargs) -> pd.DataFrame:
        """The least training-plus-inference compute that reaches a target loss, per inference demand
        (Sardana et al. 2023; :func:`bayes_scaling.decisions.lifetime.lifetime_plan`)."""
        return as_table(lifetime.lifetime_plan(self, target_loss, inference_tokens, prob=prob, **kwargs))

    def recommend(self, C=None, *, risk: str = "mean", tolerance: float = 0.005, prob: float = DEFAULT_PROB,
                  plans=None, **kwargs) -> pd.DataFrame:
        """The plan to pick per budget: the Bayes action, its flat range, the regret of other plans
        (:func:`bayes_scaling.decisions.recommend`)."""
        return as_table(recommendation.recommend(self, C, risk=risk, tolerance=tolerance, prob=prob, plans=plans,
                                                 **kwargs))

    def next_runs(self, target: str = "N_opt", *, budget, k: int = 3, **kwargs) -> pd.DataFrame:
        """The batch of runs that most reduces the target's uncertainty per FLOP, by preposterior
        analysis (:func:`bayes_scaling.decisions.design.next_runs`)."""
        return as_table(design.next_runs(self, target, budget=budget, k=k, **kwargs))

    def prob_below(self, target, N=None, D=None, C=None, **inputs) -> pd.DataFrame:
        """P(trained model's loss < target), run-to-run noise included (:func:`bayes_scaling.decisions.prob_below`)."""
        return as_table(budget.prob_below(self, target, N=N, D=D, C=C, **inputs))

    def compute_for_target(self, target, prob: float = DEFAULT_PROB, **kwargs) -> pd.DataFrame:
        """Compute (and plan) so that loss <= target with probability ``prob``
        (:func:`bayes_scaling.decisions.compute_for_target`).
        """
        return as_table(budget.compute_for_target(self, target, prob, **kwargs))

    def compare_plans(self, plans, *, prob: float = DEFAULT_PROB, **kwargs) -> pd.DataFrame:
        """Loss, P(best) and regret against the compute-optimal plan, per plan
        (:func:`bayes_scaling.decisions.compare_plans`).
        """
        return as_table(budget.compare_plans(self, plans, prob=prob, **kwargs))

    def data_for_overfitting(self, N, max_penalty: float = 0.02, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Tokens D keeping L(N,D)/L(N,inf) - 1 <= max_penalty (Kaplan's rule;
        :func:`bayes_scaling.decisions.frontier.data_for_overfitting`).
        """
        return frontier.data_for_overfitting(self, N, max_penalty, prob=prob)

    # ---------------------------------------------------------------- groups
    def compare_groups(self, N=None, D=None, C=None, *, prob: float = DEFAULT_PROB, **inputs) -> pd.DataFrame:
        """Per pair of groups: loss difference, P(A better), parameter gaps
        (:func:`bayes_scaling.decisions.groups.compare_groups`).
        """
        return as_table(groups.compare_groups(self, N, D, C, prob=prob, **inputs))

    def rank_groups(self, N=None, D=None, C=None, *, prob: float = DEFAULT_PROB, **inputs) -> pd.DataFrame:
        """Per group: loss, P(best), expected rank (:func:`bayes_scaling.decisions.groups.rank_groups`)."""
        return as_table(groups.rank_groups(self, N, D, C, prob=prob, **inputs))

    def group_offsets(self, reference: str, *, prob: float = DEFAULT_PROB) -> pd.DataFrame:
        """Each group's loss offset from a reference group, e.g. eval sets
        (:func:`bayes_scaling.decisions.groups.group_offsets`).
        """
        return as_table(groups.group_offsets(self, reference, prob=prob))

    def isoflop(self, *, prob: float = DEFAULT_PROB, **kwargs):
        """Each iso-FLOP budget's own optimum (Approach 2) beside the law's allocation, with a warning where
        they disagree (:func:`bayes_scaling.checks.isoflop.isoflop`)."""
        return isoflop_check.isoflop(self, prob=prob, **kwargs)

    # ---------------------------------------------------------------- output
    def report(self, path: str | Path, budgets=None, target_loss=None, plans=None, prob: float = DEFAULT_PROB,
               title: str | None = None, compare_with=None, **kwargs) -> Path:
        """Write a self-contained HTML report (or Markdown with a ``.md`` path;
        :func:`bayes_scaling.report.write_report`).

        ``budgets`` in FLOPs (default: 10x and 100x the largest observed compute), ``target_loss``
        adds the compute needed for it, ``plans`` compares training plans (or, as ``{name: {"N":
        ...}}``, sets them beside the recommended plan), ``compare_with`` other fits of the same runs,
        ``hardware=`` echoes budgets in hours and money, ``next_runs=`` (True, False or
        :meth:`next_runs`' keywords) the runs to train next.
        """
        return render.write_report(self, path, budgets=budgets, target_loss=target_loss, plans=plans, prob=prob,
                                   title=title, compare_with=compare_with, **kwargs)

    def save(self, path: str | Path) -> Path:
        """Write the fit (posterior, runs, law spec, priors, versions) to NetCDF; no pickle."""
        return io.save_fit(self, path)

    def _repr_html_(self) -> str:
        return notebook.fit_html(self)


def fit(runs, law: str | Path | Mapping | LawSpec = "chinchilla", *, priors=None, likelihood: str = "auto",
        discrepancy: str | None = "auto", seed: int | None = None, structure: StructureOptions | None = None,
        sampling: SamplerSettings | None = None, drop_first: float = 0.1, log_likelihood: bool | None = None,
        **options) -> Fit:
    """Fit a scaling law to training runs as a Bayesian model (NUTS); see
    :func:`bayes_scaling.posterior.inference.fit` for every option.

    ``bs.fit(runs, law="chinchilla", seed=1)`` is the default, robust fit. Sampler settings go in
    ``sampling=SamplerSettings(...)`` (or the keywords ``draws``, ``tune``, ``chains``, ...),
    groups and checkpoints in ``structure=StructureOptions(...)`` (or ``pooled``, ``run_effect``, ...).
    """
    return Fit.from_record(inference.fit(
        runs, law, priors=priors, likelihood=likelihood, discrepancy=discrepancy, seed=seed, structure=structure,
        sampling=sampling, drop_first=drop_first, log_likelihood=log_likelihood, **options))


def fit_separately(runs, law="chinchilla", *, executor=None, **kwargs) -> dict[str, Fit]:
    """One independent fit per ``group`` (no pooling at all): ``{group: Fit}``.

    ``executor`` (any ``concurrent.futures.Executor``, e.g. a dask client's ``get_executor()``) fits
    the groups there in parallel, each task shipping only its runs, the law spec and the settings.
    """
    runs = runs if isinstance(runs, Runs) else load_runs(runs)
    if not runs.has("group"):
        raise InputError("fit_separately needs a 'group' column in the runs table")
    if executor is None:
        return {g: fit(part, law, **kwargs) for g, part in runs.by_group()}
    spec = load_law(law).with_priors(kwargs.pop("priors", None))
    fitted = inference.refit_many({g: (part, spec, kwargs) for g, part in runs.by_group()}, executor, "group")
    for g, (_, caught) in fitted.items():
        for category, message in caught:
            warnings.warn(f"fit of group {g!r}: {message}", category, stacklevel=2)
    return {g: Fit.from_record(record) for g, (record, _) in fitted.items()}


def plan(runs, *, at, budget, target: str = "N_opt", k: int = 3, law="chinchilla", output: str | Path | None = None,
         fit_options: Mapping | None = None, **options) -> pd.DataFrame:
    """One turn of the scaling loop: fit the runs (or take a fit), choose the next runs, write them.

    ``runs`` is a runs table (path, DataFrame or :class:`Runs`, fitted with ``law`` and
    ``fit_options``) or a :class:`Fit`. The next runs come from :meth:`Fit.next_runs` (``target``,
    ``at``, ``budget``, ``k`` and ``options`` such as ``per_run``, ``candidates``, ``shape``); with
    ``output`` they are written as a CSV to launch (N, D, C, an architecture, the expected gain),
    atomically: a failed write leaves no half file.
    """
    fitted = runs if isinstance(runs, FitRecord) else fit(runs, law, **dict(fit_options or {}))
    table = Fit.from_record(fitted).next_runs(target, at=at, budget=budget, k=k, **options)
    if output is not None:
        atomic_write(output, lambda tmp: table.to_csv(tmp, index=False))
    return table


def load_fit(path: str | Path, *, verify: bool = True) -> Fit:
    """Restore a fit written by :meth:`Fit.save`; its predictions are identical.

    A file edited or damaged since it was saved (any part: posterior, runs, law spec, priors,
    settings) is refused with :class:`~bayes_scaling.core.errors.FitFileError`; ``verify=False``
    loads it anyway, with a warning.
    """
    return Fit.from_record(io.load_record(path, verify=verify))


@functools.wraps(backtest_check.backtest)
def backtest(runs, law="chinchilla", **kwargs) -> backtest_check.Backtest:
    result = backtest_check.backtest(runs, law, **kwargs)
    return replace(result, fits={k: Fit.from_record(v) for k, v in result.fits.items()})  # each fold a Fit
