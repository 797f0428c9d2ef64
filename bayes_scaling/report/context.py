"""Fit -> everything the report shows, computed once: numbers, tables, prose, plot images, caveats.

:func:`report_context` assembles one dict from sections, each a small function that adds its keys
(and its sentences to the two-sentence answer, and its caveats): the data and the sampler's
verdict, the allocation and extrapolation, the compute for a target loss, the plans, the families,
the law comparison, the plots and the reproducibility footer.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..checks.compare import compare
from ..core.errors import DecisionWarning
from ..core.formatting import fmt
from ..core.intervals import DEFAULT_PROB
from ..data.drops import drop_lines
from ..decisions.allocation import allocate
from ..decisions.budget import compare_plans, compute_for_target
from ..decisions.groups import rank_groups
from .figures import report_plots
from .tables import MAX_HEADLINES, distance_words, interval_cell, interval_table, table
from .training import what_to_train

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["report_context"]


def report_context(fit: FitRecord, *, budgets=None, target_loss=None, plans=None, prob: float = DEFAULT_PROB,
                   title: str | None = None, compare_with: Sequence[FitRecord] | None = None,
                   plots: bool = True, hardware=None, next_runs=True) -> dict[str, Any]:
    """Everything the templates show, computed once (numbers, tables, prose, plot images).

    ``plans`` are compared (rows of N, D, C) or, given as ``{name: {"N": ...}}``, put beside the
    recommended plan; ``hardware`` echoes budgets in accelerator-hours and money; ``next_runs``
    (True, False, or :func:`~bayes_scaling.decisions.design.next_runs`'s keywords) the runs to train next.
    """
    has_nd = {"N", "D"} <= set(fit.law.inputs.values())
    c_obs = fit.runs.compute() if has_nd or fit.runs.has("C") else None
    if budgets is None:
        budgets = [10 * c_obs.max(), 100 * c_obs.max()] if c_obs is not None else []
    budgets = [float(b) for b in np.atleast_1d(budgets)]
    ctx: dict[str, Any] = {"title": title or f"Scaling-law report: {fit.law.title}", "prob": prob,
                           "prob_pct": f"{prob:.0%}", "law": fit.law, "fit": fit, "caveats": [], "answer": []}
    _data_section(ctx, fit, prob)
    # decisions optimise the law alone: for one law without a discrepancy (groups: the families section)
    target = fit if has_nd and not fit.structure.varying and fit.discrepancy is None else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DecisionWarning)
        if target is not None:
            _decision_sections(ctx, target, budgets, target_loss, plans, prob, hardware)
            if budgets:
                what_to_train(ctx, target, budgets, plans, prob, hardware, next_runs)
    ctx["caveats"] += [str(w.message) for w in caught if issubclass(w.category, DecisionWarning)]
    if fit.structure.varying and has_nd and budgets:
        _families_section(ctx, fit, max(budgets), prob)
    if compare_with:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ctx["laws"] = table(compare([fit, *compare_with], refit=False), index=True)
    if not ctx["answer"]:
        pred = fit.predict(**{c: fit.runs.values(c)[-1:] for c in fit.law.inputs.values()}, prob=prob)
        ctx["answer"].append(f"The fitted law reproduces the last run's {fit.law.response} as "
                             f"{interval_cell(pred.iloc[0], fit.law.response)}.")
    plot_budgets = budgets or ([10 * float(c_obs.max())] if c_obs is not None else [])
    _plots_section(ctx, fit, plot_budgets, has_nd, plots)
    ctx["footer"] = _footer(fit)
    return ctx


def _data_section(ctx: dict, fit: FitRecord, prob: float) -> None:
    """The data, the sampler's verdict and model checks, the parameters."""
    d = fit.diagnostics
    ctx["verdict"], ctx["diagnostics"] = d.verdict, str(d).splitlines()
    if not d.ok:
        ctx["caveats"].append(f"The sampler's diagnostics are {d.verdict.upper()}: {str(d).splitlines()[0]}. "
                              "Treat every number below with care until it passes.")
    ctx["caveats"] += [f"Model check: {c}" for c in d.checks]
    tails = fit.heavy_tail_note()
    if tails:
        ctx["caveats"].append(tails)
    ctx["likelihood_choice"] = fit.settings.get("likelihood_choice", "")
    ctx["structural"] = ("Predictions and decisions include a " + fit.structural.summary()
                         + "; beyond the runs its uncertainty widens every interval") if fit.structural else ""
    if fit.settings.get("remedy"):
        ctx["diagnostics"].append(f"remedy: {fit.settings['remedy']}")
    ctx["data"] = table(fit.runs.describe(), index=True)
    ctx["n_runs"], ctx["dropped"], ctx["drops"] = len(fit.runs), fit.runs.dropped, drop_lines(fit.runs)
    ctx["groups"] = list(fit.structure.groups)
    ctx["parameters"] = table(fit.summary(prob), index=True)
    if fit.discrepancy is not None:
        ctx["caveats"].append("This fit has a model discrepancy (a Gaussian process beside the law): its "
                              "predictions allow for the law's form being off, but the allocation and the "
                              "other decisions, which optimise the law alone, are not shown.")


def _decision_sections(ctx: dict, fit: FitRecord, budgets: list[float], target_loss, plans, prob: float,
                       hardware=None) -> None:
    if budgets:
        _allocation_section(ctx, fit, budgets, prob, hardware)
    if target_loss is not None:
        _target_section(ctx, fit, target_loss, prob)
    if plans is not None and not isinstance(plans, Mapping):
        cmp = compare_plans(fit, plans, prob=prob)
        head = [c for c in cmp.columns if c in ("name", "N", "D", "C", "tokens_per_param")
                or not any(c.startswith(p) for p in ("loss_", "regret_", "p_best", "N_opt", "n_not", "decades"))]
        ctx["plans"] = table(interval_table(cmp, list(dict.fromkeys(head)), ["loss", "regret"],
                                            ["p_best", "regret_mean", "decades_beyond_data"]))


def _allocation_section(ctx: dict, fit: FitRecord, budgets: list[float], prob: float, hardware=None) -> None:
    """The compute-optimal allocation per budget, the loss there, and how far beyond the data it is."""
    alloc = allocate(fit, budgets, prob=prob, hardware=hardware)
    first = [c for c in ("C", "gpu_hours", "dollars") if c in alloc]
    ctx["allocation"] = table(interval_table(alloc, first, ["N_opt", "D_opt", "tokens_per_param", "loss_opt"],
                                             ["n_not_interior", "decades_beyond_data"]))
    ctx["exponents"] = {k: interval_cell(alloc.iloc[0], k) for k in ("a", "b")}
    c_obs = fit.runs.compute()
    for _, row in alloc.head(MAX_HEADLINES).iterrows():  # one headline per budget asked, in the order asked
        ctx["answer"].append(f"At {fmt(row['C'])} FLOPs ({distance_words(row['C'], c_obs)}) the compute-optimal "
                             f"model has {interval_cell(row, 'N_opt')} parameters trained on "
                             f"{interval_cell(row, 'D_opt')} tokens, and reaches loss "
                             f"{interval_cell(row, 'loss_opt')} ({prob:.0%} intervals).")
    n, d = alloc["N_opt_median"].to_numpy(), alloc["D_opt_median"].to_numpy()
    pred = fit.predict(N=n, D=d, prob=prob)
    predictive = fit.predict(N=n, D=d, prob=prob, kind="predictive")
    ctx["extrapolation"] = table(pred[["N", "D", "C"]].assign(
        loss=[interval_cell(r, "loss") for _, r in pred.iterrows()],
        loss_new_run=[interval_cell(r, "loss") for _, r in predictive.iterrows()],
        decades_beyond_data=pred["decades_beyond_data"]))
    far = float(alloc["decades_beyond_data"].max())
    if far > 0:
        ctx["caveats"].append(f"The largest budget lies {far:.1f} decades beyond the observed compute; "
                              "the intervals assume the law holds out there.")
    if alloc["n_not_interior"].any():
        ctx["caveats"].append(f"Up to {int(alloc['n_not_interior'].max())} posterior draws have no interior "
                              "optimum at some budget; they are left out of the allocation intervals.")


def _target_section(ctx: dict, fit: FitRecord, target_loss, prob: float) -> None:
    """The compute that reaches ``target_loss`` with probability ``prob``."""
    try:
        need = compute_for_target(fit, target_loss, prob=prob)
    except ValueError as exc:
        ctx["caveats"].append(f"Target loss {fmt(target_loss)}: {exc}")
        return
    r = need.iloc[0]
    ctx["budget_target"] = table(interval_table(need, ["target", "prob", "C", "N", "D"], ["C", "N_opt", "D_opt"],
                                                ["frac_unreachable", "decades_beyond_data"],
                                                rename={"C": "C (law uncertainty)"}))
    ctx["answer"].append(f"To reach loss ≤ {fmt(r['target'])} with probability {prob:.0%}, budget "
                         f"{fmt(r['C'])} FLOPs (N = {fmt(r['N'])}, D = {fmt(r['D'])}): the number to plan with, "
                         "counting both the law's uncertainty and run-to-run noise. Beside it, the law's "
                         "uncertainty alone, as the compute each posterior draw's own optimal plan needs: "
                         f"median {fmt(r['C_median'])}, {DEFAULT_PROB:.0%} interval "
                         f"{fmt(r['C_lower'])}–{fmt(r['C_upper'])} FLOPs.")


def _families_section(ctx: dict, fit: FitRecord, c_top: float, prob: float) -> None:
    """The groups ranked at the largest budget, at 20 tokens per parameter."""
    ranks = rank_groups(fit, C=c_top, N=np.sqrt(c_top / fit.runs.flops_per_token / 20), prob=prob)
    ctx["families"] = table(ranks)
    best = ranks.iloc[0]
    ctx["answer"].append(f"At {fmt(c_top)} FLOPs (20 tokens per parameter) family {best['group']} is best with "
                         f"probability {best['p_best']:.0%}.")


def _plots_section(ctx: dict, fit: FitRecord, budgets: list[float], has_nd: bool, draw: bool) -> None:
    ctx["plots"] = report_plots(fit, budgets, has_nd) if draw else []
    for p in ctx["plots"]:
        if "png" in p:
            p["data_uri"] = "data:image/png;base64," + base64.b64encode(p["png"]).decode("ascii")
        else:
            ctx["caveats"].append(f"Plot '{p['title']}' could not be drawn: {p['error']}")


def _footer(fit: FitRecord) -> dict[str, Any]:
    """What reproduces the fit: versions, seed, the runs' sha256, the law spec, when."""
    return {"versions": fit.versions, "seed": fit.settings.get("seed"), "sha256": fit.runs.sha256(),
            "law_spec": json.dumps(json.loads(fit.law.to_json()), indent=2),
            "likelihood": fit.likelihood, "structure": json.dumps(fit.structure.to_dict()),
            "created": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}
