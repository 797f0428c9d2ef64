"""Inference-aware allocation for a target loss: the cheapest model over its lifetime (Sardana et al. 2023).

A model that will serve ``I`` inference tokens costs ``k·N·D + 2·N·I`` FLOPs over its life. For
a target loss, :func:`lifetime_plan` finds, for every posterior draw, the plan (N, D) on the law
(and the fit's structural term) that reaches the target for the least lifetime compute, by a
bisection in the lifetime budget over the inference-aware optimum at each budget (the budget
at which the best loss equals the target is the least budget that reaches it). Beside it, the
plan Chinchilla's rule would pick (least *training* compute for the same loss) and what it costs
over the same lifetime: the ``savings`` are the fraction of lifetime compute the inference-aware
plan saves. With more inference demand the answer moves to smaller models trained on more
tokens per parameter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.intervals import DEFAULT_PROB, check_prob, interval_columns
from .budget import per_draw_compute
from .cost import cost_columns, resolve_cost
from .optimum import compute_range, flops_per_token_of, positive_array

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["lifetime_plan"]


def _plan_draws(fit, cost, log_target, lo, hi, method, fixed) -> dict[str, np.ndarray]:
    """Per draw: N, D and the lifetime FLOPs of the least-lifetime-compute plan reaching the target."""
    s = len(np.ravel(fit.posterior["posterior"]["chain"])) * len(np.ravel(fit.posterior["posterior"]["draw"]))
    goal = np.full(s, log_target)
    shift = 0.0 if cost.plain else np.log(cost.flops_per_token)  # the bisection's range is in log(C/k)
    per = per_draw_compute(fit, goal, lo + shift, hi + shift, method, fixed, cost=cost)
    n, d = np.exp(per["log_N"]), np.exp(per["log_D"])
    train = np.exp(cost.with_inference(0).log_compute(per["log_N"], per["log_D"]))
    return {"N": n, "D": d, "train": train, "reached": np.isfinite(per["log_ck"])}


def lifetime_plan(fit: FitRecord, target_loss, inference_tokens, *, prob: float = DEFAULT_PROB,
                  flops_per_token: float | None = None, cost=None, hardware=None, method: str = "auto",
                  decades=(6, 20), **fixed) -> pd.DataFrame:
    """The least lifetime compute (training plus inference) that reaches each target loss.

    Parameters
    ----------
    target_loss : float or array-like
        The law's (expected) loss to reach.
    inference_tokens : float or array-like
        Tokens served over the model's lifetime (0: Chinchilla's training-only optimum); one row per
        target and demand.
    cost : CostModel, optional
        The training FLOPs of a plan (default ``k·N·D``); inference adds ``2·N`` per token.
    hardware : Hardware, optional
        Echo the lifetime compute as ``gpu_hours`` (and ``dollars``).
    decades : (float, float)
        The search spans this many decades below and above the runs' compute.

    Returns
    -------
    pandas.DataFrame
        Per target and demand: ``N_opt``, ``D_opt``, ``tokens_per_param``, ``C_total`` (lifetime
        FLOPs), ``training_flops``, ``inference_flops``; ``N_chinchilla`` and
        ``tokens_per_param_chinchilla`` (the least-training-compute plan for the same loss) and
        ``savings`` (1 - C_total / that plan's lifetime FLOPs), each ``_median/_lower/_upper``;
        ``frac_unreachable`` (draws whose loss floor is above the target, left out).
    """
    check_prob(prob)
    targets = positive_array("target_loss", target_loss)
    demands = np.atleast_1d(np.asarray(inference_tokens, dtype=float)).ravel()
    k = flops_per_token_of(fit, flops_per_token)
    base = resolve_cost(k, cost, 0.0)
    for i in demands:
        base.with_inference(i)  # a bad demand fails before any work
    c_lo, c_hi = compute_range(fit, k)
    lo, hi = np.log(c_lo / k) - decades[0] * np.log(10), np.log(c_hi / k) + decades[1] * np.log(10)
    rows = []
    for t in targets:
        chin = _plan_draws(fit, base, np.log(t), lo, hi, method, fixed)
        for i in demands:
            life = base.with_inference(i)
            plan = chin if i == 0 else _plan_draws(fit, life, np.log(t), lo, hi, method, fixed)
            ok = plan["reached"] & chin["reached"]
            inference = life.inference_flops_per_param * i * plan["N"]
            total = plan["train"] + inference
            chin_total = chin["train"] + life.inference_flops_per_param * i * chin["N"]
            values = {"N_opt": plan["N"], "D_opt": plan["D"], "tokens_per_param": plan["D"] / plan["N"],
                      "C_total": total, "training_flops": plan["train"], "inference_flops": inference,
                      "N_chinchilla": chin["N"], "tokens_per_param_chinchilla": chin["D"] / chin["N"],
                      "savings": 1 - total / chin_total}
            row = {"target_loss": t, "inference_tokens": i}
            for name, v in values.items():
                cols = interval_columns(name, np.where(ok, v, np.nan)[ok][:, None], prob) if ok.any() else {}
                row.update({key: float(val[0]) for key, val in cols.items()})
            row["frac_unreachable"] = float(1 - ok.mean())
            row.update({key: float(v) for key, v in cost_columns(row.get("C_total_median", np.nan), hardware).items()})
            rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(prob=prob, cost=base.describe(), flops_per_token=k,
                     **({"hardware": hardware.describe()} if hardware is not None else {}))
    return out
