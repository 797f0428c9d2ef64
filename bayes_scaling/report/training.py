"""The report's "what to train" section: the plan to pick at each budget, its flat range, and the next runs.

:func:`what_to_train` adds to the report's context the recommendation per budget
(:func:`~bayes_scaling.decisions.recommendation.recommend`: the Bayes-action N, its flat range,
the regret of the median N_opt, of 20 tokens per parameter and of the user's plans; budgets echoed
in accelerator-hours and money with ``hardware``) and the runs to train next
(:func:`~bayes_scaling.decisions.design.next_runs`, target N_opt at the first budget; by default a
batch of 3 within 3x the largest run's compute, each run at most that run's compute).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.formatting import fmt
from ..decisions.design import next_runs
from ..decisions.recommendation import recommend
from .tables import MAX_HEADLINES, distance_words, interval_table, table

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["what_to_train"]


def _recommend_plans(plans) -> dict | None:
    """The report's ``plans`` as recommend's ``{name: {"N": ...}}`` when they name sizes; else none."""
    if isinstance(plans, Mapping) and all(isinstance(v, Mapping) for v in plans.values()):
        return dict(plans)
    return None


def what_to_train(ctx: dict, fit: FitRecord, budgets: list[float], plans, prob: float, hardware=None,
                  next_spec: Mapping | bool | None = True) -> None:
    """Add ``recommendation`` (and ``next_runs``) tables and their sentences to the report's context."""
    rec = recommend(fit, budgets, prob=prob, plans=_recommend_plans(plans), hardware=hardware)
    first = [c for c in ("C", "gpu_hours", "dollars", "plan", "N", "D", "tokens_per_param") if c in rec]
    # the flat range and the distance from the data are per budget: in the sentences below, not per row
    ctx["recommendation"] = table(interval_table(rec, first, ["loss", "regret"], ["regret_mean"]))
    ctx["recommendation_cost"] = rec.attrs["cost"] + (f"; {rec.attrs['hardware']}" if "hardware" in rec.attrs
                                                      else "")
    for c in list(dict.fromkeys(rec["C"]))[:MAX_HEADLINES]:
        rows = rec[rec["C"] == c].set_index("plan")
        top, chin = rows.loc["recommended"], rows.loc["20 tokens/param"]
        ctx["answer"].append(
            f"To train at {fmt(c)} FLOPs ({distance_words(c, fit.runs.compute())}), pick N = {fmt(top['N'])} "
            f"(D = {fmt(top['D'])}, {top['tokens_per_param']:.0f} tokens per parameter): any N from "
            f"{fmt(top['N_flat_lower'])} to {fmt(top['N_flat_upper'])} is within {rec.attrs['tolerance']:.1%} of "
            f"its expected loss, and 20 tokens per parameter would lose {chin['regret_mean']:.3f} nats on average.")
    if next_spec is False or next_spec is None:
        return
    c_max = float(fit.runs.compute().max())
    spec: dict[str, Any] = {"at": budgets[0], "budget": 3 * c_max, "per_run": c_max, "k": 3}
    spec.update(next_spec if isinstance(next_spec, Mapping) else {})
    nxt = next_runs(fit, spec.pop("target", "N_opt"), **spec)
    ctx["next_runs"] = table(nxt)
    ctx["next_runs_about"] = (f"{nxt.attrs['target']}: {nxt.attrs['measure']} now {nxt.attrs['uncertainty_now']:.3g}, "
                              f"{len(nxt)} run(s) within {fmt(nxt.attrs['budget'])} FLOPs chosen from "
                              f"{nxt.attrs['candidates']} candidates")
