"""The plan to pick at a budget: the Bayes action, how flat the valley is, and what other plans cost.

For each budget C, :func:`recommend` evaluates the loss of every posterior draw (the law and the
fit's structural term) along ``C = k·N·D`` and picks the N that minimises the posterior *risk*:
the expected loss (``risk="mean"``), or a quantile of the loss (``risk="q90"``: the plan whose
90th-percentile loss is lowest, a risk-averse choice; Harrell–Davis quantiles, smooth in the
plan). That is the Bayes action, not the median of the per-draw optima: when the posterior is
skewed, or the valley is flat, the two differ. Beside it:

- the **flat range**: every N whose risk is within ``tolerance`` (relative) of the best; a wide
  range means the decision hardly matters within it;
- the **regret** of each plan: its loss minus each draw's own best loss at that budget (nats), as
  a mean and an interval, for the recommended plan, the median of the per-draw optima ("median
  N_opt"), 20 tokens per parameter, and any plans given.

How: each draw's own optimum comes from :func:`~bayes_scaling.decisions.optimum.optimum` (closed
form, or the numeric search); the risk is evaluated on a grid spanning those optima (extended
while its minimum sits at the grid's edge), the Bayes action is the vertex of the parabola through
the grid's best point and its neighbours, and each end of the flat range is bracketed by stepping
outwards and then bisected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import DecisionInputError
from ..core.intervals import DEFAULT_PROB, check_prob, decades_beyond, interval_columns
from ..law.forms import chinchilla_terms
from .cost import CostModel, budget_coordinate, budget_flops, coordinate_shift, cost_columns, resolve_cost
from .optimum import all_draws, compute_range, flops_per_token_of, loss_function, optimum, positive_array, search_bounds

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["recommend", "risk_reducer", "CHINCHILLA_TOKENS_PER_PARAM"]

COARSE = 9  # risk first evaluated at this many model sizes per budget, spanning the per-draw optima
FINE = 5  # then at this many more around the best of them
SPAN = 41  # without a closed form: the first grid spans the whole search range
EDGE_STEPS = 3  # regula falsi steps for each end of the flat range
CHINCHILLA_TOKENS_PER_PARAM = 20.0
_LN10 = np.log(10.0)
_RISK = re.compile(r"^(mean|q(\d{1,2}(\.\d+)?))$")


def _risk_quantile(risk: str) -> float | None:
    """None for the mean; the quantile (e.g. 0.9 for ``"q90"``) otherwise."""
    m = _RISK.match(str(risk))
    if m is None or (m.group(2) and not 0 < float(m.group(2)) < 100):
        raise DecisionInputError(f"risk must be 'mean' or 'q<percent>' such as 'q90' (the 90th percentile of "
                                 f"the loss), got {risk!r}")
    return None if m.group(1) == "mean" else float(m.group(2)) / 100


def risk_reducer(q: float | None, draws: int) -> Callable[[np.ndarray], np.ndarray]:
    """The risk of losses ``(S, G)`` over the draws: their mean, or their ``q`` quantile by the
    Harrell–Davis estimator (a Beta-weighted mean of the order statistics; a smooth function of the
    plan, where the plain sample quantile jumps as draws swap order)."""
    if q is None:
        return lambda v: v.mean(axis=0)
    from scipy import stats  # ~1 s to import: paid only for a quantile risk

    cdf = stats.beta.cdf(np.linspace(0, 1, draws + 1), (draws + 1) * q, (draws + 1) * (1 - q))
    weights = np.diff(cdf)
    return lambda v: weights @ np.sort(v, axis=0)


def _plans(plans, c: float, cost: CostModel) -> dict[str, float]:
    """The user's plans as ``{name: log N}`` at budget coordinate ``c``: each ``{"N": ...}`` or
    ``{"tokens_per_param": ...}``."""
    out = {}
    for name, spec in (plans or {}).items():
        if not isinstance(spec, Mapping) or len(set(spec) & {"N", "tokens_per_param"}) != 1 or len(spec) != 1:
            raise DecisionInputError(f"plan {name!r} must be {{'N': model size}} or {{'tokens_per_param': D/N}}, "
                                     f"got {spec!r}")
        if "N" in spec:
            out[str(name)] = float(np.log(positive_array(f"plan {name!r} N", spec["N"])[0]))
        else:
            tpp = float(positive_array(f"plan {name!r} tokens_per_param", spec["tokens_per_param"])[0])
            out[str(name)] = float(cost.log_n_at(c + coordinate_shift(cost), tpp))
    return out


def _vertex(x: np.ndarray, r: np.ndarray, i: int) -> float:
    """The minimum of the parabola through the risk at grid points i-1, i, i+1 (the grid point at an edge)."""
    if i == 0 or i == len(x) - 1:
        return float(x[i])
    (x0, x1, x2), (r0, r1, r2) = x[i - 1:i + 2], r[i - 1:i + 2]
    den = (x1 - x0) * (r1 - r2) - (x1 - x2) * (r1 - r0)
    if den == 0:
        return float(x1)
    num = (x1 - x0) ** 2 * (r1 - r2) - (x1 - x2) ** 2 * (r1 - r0)
    return float(np.clip(x1 - 0.5 * num / den, x0, x2))


class _Loss:
    """Loss of every draw at model sizes ``log N`` (``(G,)``) on one budget."""

    def __init__(self, fit: FitRecord, fixed: Mapping, params: Mapping[str, np.ndarray], cost: CostModel):
        self.f = loss_function(fit, fixed, params, natural=True)
        self.tokens = (lambda x, c: c - x) if cost.plain else cost.log_tokens
        self.draws = len(next(iter(params.values())))

    def __call__(self, log_n: np.ndarray, c: float) -> np.ndarray:
        x = np.asarray(log_n, dtype=float)[None, :]
        return self.f(x, self.tokens(x, c))


def _locate(risk_at: Callable, x: np.ndarray, r: np.ndarray, bounds: tuple[float, float]):
    """The risk's minimiser: extend the grid while its best point is at an edge short of the search
    bounds, then take the vertex of a parabola on a finer grid around the best point."""
    while (i := int(np.argmin(r))) in (0, len(x) - 1) and x[i] not in bounds:
        h = (x[-1] - x[0]) / (len(x) - 1)
        more = np.clip(x[i] + np.sign(i - 0.5) * h * np.arange(1, COARSE), *bounds)
        more = np.unique(more[more != x[i]])
        x, r = np.concatenate([x, more]), np.concatenate([r, risk_at(more)])
        order = np.argsort(x)
        x, r = x[order], r[order]
    fine = np.linspace(x[max(i - 1, 0)], x[min(i + 1, len(x) - 1)], FINE + 2)[1:-1]
    x, keep = np.unique(np.concatenate([x, fine]), return_index=True)
    r = np.concatenate([r, risk_at(fine)])[keep]
    return _vertex(x, r, int(np.argmin(r))), x, r


def _edges(risk_at: Callable, x_best: float, r_best: float, threshold: float, x: np.ndarray, r: np.ndarray,
           bounds: tuple[float, float]) -> np.ndarray:
    """Both ends of ``{x : risk(x) <= threshold}`` around ``x_best``: bracketed from the grid (or by
    stepping outwards, doubling), then located by the Illinois variant of regula falsi. An end that
    never crosses within ``bounds`` is the bound itself."""
    sign, limit = np.array([-1.0, 1.0]), np.array(bounds, dtype=float)
    ins, out, f_out = np.array([x_best, x_best]), limit.copy(), np.full(2, np.nan)
    f_in = np.full(2, r_best - threshold)
    for j, side in enumerate((x < x_best, x > x_best)):
        above = side & (r > threshold)
        if above.any():
            k = np.flatnonzero(above)[-1 if j == 0 else 0]
            out[j], f_out[j] = x[k], r[k] - threshold
            between = side & ~above & ((x > x[k]) if j == 0 else (x < x[k]))
            if between.any():
                m = np.flatnonzero(between)[0 if j == 0 else -1]
                ins[j], f_in[j] = x[m], r[m] - threshold
    step = max(float(np.ptp(x)), 0.1 * _LN10)
    while np.isnan(f_out).any() and (todo := np.isnan(f_out) & (ins != limit)).any():
        trial = np.clip(ins + sign * step, *bounds)
        f_trial = risk_at(trial) - threshold
        hit = todo & (f_trial > 0)
        out, f_out = np.where(hit, trial, out), np.where(hit, f_trial, f_out)
        ins, f_in = np.where(todo & ~hit, trial, ins), np.where(todo & ~hit, f_trial, f_in)
        step *= 2
    crossed = ~np.isnan(f_out)
    if not crossed.any():
        return limit
    last = np.zeros(2, dtype=int)
    for _ in range(EDGE_STEPS):
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.where(crossed, ins - f_in * (out - ins) / (f_out - f_in), ins)
        c = np.where(np.isfinite(c), c, 0.5 * (ins + out))
        f_c = risk_at(c) - threshold
        up = f_c > 0
        f_out = np.where(up, f_c, np.where(last == -1, 0.5 * f_out, f_out))
        f_in = np.where(~up, f_c, np.where(last == 1, 0.5 * f_in, f_in))
        out, ins, last = np.where(up, c, out), np.where(up, ins, c), np.where(up, 1, -1)
    return np.where(crossed, ins - f_in * (out - ins) / (f_out - f_in), limit)


def _grid_optima(x: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each draw's optimum from its loss on a uniform grid ``(S, G)``: the vertex and minimum of the
    parabola through its best grid point and the two beside it (the grid point at an edge)."""
    i = np.clip(np.argmin(grid, axis=1), 1, len(x) - 2)
    y0, y1, y2 = (np.take_along_axis(grid, (i + d)[:, None], axis=1)[:, 0] for d in (-1, 0, 1))
    curv = y0 - 2 * y1 + y2
    ok = (curv > 0) & (grid.argmin(axis=1) == i)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ok, np.clip((y0 - y2) / (2 * curv), -1, 1), 0.0)
        low = np.where(ok, y1 - 0.25 * (y0 - y2) * t, y1)
    h = x[1] - x[0]
    return x[i] + t * h, np.minimum(low, grid.min(axis=1))


def _one_budget(loss: _Loss, c: float, cost: CostModel, q: float | None, tolerance: float, plans,
                closed: tuple[np.ndarray, np.ndarray] | None, tpp_bounds: tuple[float, float]) -> dict:
    """The plans at one budget: their names, log N, risk, loss and regret draws ``(S, plans)``, the flat range.

    Each draw's own optimum: ``closed`` (the closed form's ``(log N, loss)``) when given, and the
    risk's first grid spans those optima; else the first grid spans the whole search range and
    each draw's optimum is read off it."""
    log_ck = float(c)  # the budget coordinate: log(C/k) for k·N·D, else log C
    log_c = log_ck + coordinate_shift(cost)
    bounds = (float(cost.log_n_at(log_c, tpp_bounds[1])), float(cost.log_n_at(log_c, tpp_bounds[0])))
    reduce = risk_reducer(q, loss.draws)
    risk_at = lambda x: reduce(loss(x, log_ck))  # noqa: E731
    if closed is not None:
        opt_x, opt_loss = closed
        lo, hi = np.quantile(opt_x, [0.005, 0.995])
        pad = 0.1 * _LN10 + 0.1 * (hi - lo)
        x = np.linspace(max(bounds[0], lo - pad), min(bounds[1], hi + pad), COARSE)
        r = risk_at(x)
    else:
        x = np.linspace(*bounds, SPAN)
        grid = loss(x, log_ck)
        (opt_x, opt_loss), r = _grid_optima(x, grid), reduce(grid)
    x_star, x, r = _locate(risk_at, x, r, bounds)
    chosen = {"recommended": x_star, "median N_opt": float(np.clip(np.median(opt_x), *bounds)),
              f"{CHINCHILLA_TOKENS_PER_PARAM:g} tokens/param": float(cost.log_n_at(log_c,
                                                                                     CHINCHILLA_TOKENS_PER_PARAM))}
    chosen.update(_plans(plans, log_ck, cost))
    log_n = np.array(list(chosen.values()))
    at = loss(log_n, log_ck)  # (S, plans)
    risks = reduce(at)
    flat = _edges(risk_at, x_star, risks[0], (1 + tolerance) * min(risks[0], r.min()), x, r, bounds)
    return {"names": list(chosen), "log_n": log_n, "log_d": loss.tokens(log_n, log_ck), "risk": risks, "loss": at,
            "regret": at - np.minimum(opt_loss, at.min(axis=1))[:, None], "flat": np.exp(flat),
            "edge": bool(min(abs(x_star - b) for b in bounds) < 1e-9)}


def _table(parts: list[dict], budgets: np.ndarray, prob: float, hardware) -> pd.DataFrame:
    """One row per budget and plan; every interval computed at once over all of them."""
    count = [len(p["names"]) for p in parts]
    c = np.repeat(budgets, count)
    n = np.exp(np.concatenate([p["log_n"] for p in parts]))
    d = np.exp(np.concatenate([p["log_d"] for p in parts]))
    regret = np.hstack([p["regret"] for p in parts])
    flat = np.repeat(np.array([p["flat"] for p in parts]), count, axis=0)
    return pd.DataFrame({
        "C": c, **cost_columns(c, hardware), "plan": [name for p in parts for name in p["names"]], "N": n, "D": d,
        "tokens_per_param": d / n, "risk": np.concatenate([p["risk"] for p in parts]),
        **interval_columns("loss", np.hstack([p["loss"] for p in parts]), prob),
        "regret_mean": regret.mean(axis=0), **interval_columns("regret", regret, prob),
        "N_flat_lower": flat[:, 0], "N_flat_upper": flat[:, 1],
        "at_search_edge": np.repeat([p["edge"] for p in parts], count)})


def _check(risk, tolerance, prob) -> float | None:
    q = _risk_quantile(risk)
    check_prob(prob)
    if isinstance(tolerance, bool) or not 0 < tolerance < 1:
        raise DecisionInputError(f"tolerance must be in (0, 1) (a fraction of the best plan's risk, e.g. 0.005), "
                                 f"got {tolerance!r}")
    return q


def recommend(fit: FitRecord, C=None, *, risk: str = "mean", tolerance: float = 0.005, prob: float = DEFAULT_PROB,
              plans: Mapping[str, Mapping[str, float]] | None = None, flops_per_token: float | None = None,
              cost: CostModel | None = None, inference_tokens=None, gpu_hours=None, dollars=None, hardware=None,
              **fixed) -> pd.DataFrame:
    """The plan to pick at each budget: the Bayes action, its flat range, and the regret of other plans.

    Parameters
    ----------
    fit : Fit
        A fitted law of N and D (a fit whose parameters vary by group: one answer per group).
    C : float or array-like
        Budgets in FLOPs (with ``inference_tokens``: the lifetime compute, training plus inference);
        or ``gpu_hours`` / ``dollars`` with ``hardware``.
    risk : str
        ``"mean"``: minimise the posterior expected loss; ``"q90"`` (any ``"q<percent>"``): minimise
        that quantile of the loss (a risk-averse plan).
    tolerance : float
        In (0, 1): the flat range holds every N whose risk is within this fraction of the best's.
    prob : float
        Mass of the intervals.
    plans : mapping, optional
        More plans to compare: ``{name: {"N": size}}`` or ``{name: {"tokens_per_param": D/N}}``.
    flops_per_token : float, optional
        k in C = k·N·D (default: the runs table's).
    cost, inference_tokens, gpu_hours, dollars, hardware
        As in :func:`bayes_scaling.decisions.allocation.allocate`: the FLOPs of a plan, the lifetime
        inference demand, and budgets in accelerator-hours or money (echoed as columns).
    **fixed
        Values of the law's other inputs.

    Returns
    -------
    pandas.DataFrame
        One row per budget and plan (``recommended`` first, then ``median N_opt``, ``20
        tokens/param`` and the given plans): ``C`` (and ``gpu_hours``, ``dollars``), ``plan``, ``N``,
        ``D``, ``tokens_per_param``, ``risk`` (the expected loss, or the quantile), ``loss_*``,
        ``regret_mean`` and ``regret_*`` (loss above each draw's own best at that budget, nats), the
        budget's flat range ``N_flat_lower``/``N_flat_upper``, ``at_search_edge`` (the best plan sits
        at the edge of the searched sizes: with a structural term, the runs' tokens per parameter
        widened by half a decade) and ``decades_beyond_data``; with groups, ``group`` first.
    """
    keys = dict(risk=risk, tolerance=tolerance, prob=prob, plans=plans, flops_per_token=flops_per_token, cost=cost,
                inference_tokens=inference_tokens, gpu_hours=gpu_hours, dollars=dollars, hardware=hardware)
    if fit.structure.varying:
        frames = [recommend(fit.for_group(g), C, **keys, **fixed).assign(group=g) for g in fit.groups]
        return pd.concat([f[["group", *f.columns[:-1]]] for f in frames], ignore_index=True)
    budgets = budget_flops(C, gpu_hours=gpu_hours, dollars=dollars, hardware=hardware)
    q = _check(risk, tolerance, prob)
    k = flops_per_token_of(fit, flops_per_token)
    cost = resolve_cost(k, cost, inference_tokens)
    coords = budget_coordinate(cost, budgets)
    for c in coords:
        _plans(plans, float(c), cost)  # bad plans fail before any work
    loss, bounds = _Loss(fit, fixed, all_draws(fit), cost), search_bounds(fit)
    closed_form = fit.structural is None and chinchilla_terms(fit.law) is not None and cost.plain
    opt = optimum(fit, coords[None, :], fixed=fixed, exponents=False) if closed_form else None
    parts = [_one_budget(loss, float(c), cost, q, tolerance, plans,
                         None if opt is None else (opt["log_N"][:, j], np.exp(opt["log_loss"][:, j])), bounds)
             for j, c in enumerate(coords)]
    out = _table(parts, budgets, prob, hardware)
    lo, hi = compute_range(fit, k)
    out["decades_beyond_data"] = decades_beyond(out["C"].to_numpy(), lo, hi)
    out.attrs.update(prob=prob, risk=risk, tolerance=tolerance, flops_per_token=k, cost=cost.describe(),
                     **({"hardware": hardware.describe()} if hardware is not None else {}))
    return out
