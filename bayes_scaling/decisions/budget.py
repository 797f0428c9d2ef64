"""Budget questions on a fit of a law of N and D, over every posterior draw at once.

- :func:`prob_below`: the probability that a trained model's loss is below a target, run-to-run
  noise included;
- :func:`compute_for_target`: the compute (and its plan) that reaches a target loss with a given
  probability;
- :func:`compare_plans`: loss, P(best) and regret against the compute-optimal plan at the same
  compute, for each plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.intervals import DEFAULT_PROB, check_prob, decades_beyond, decades_beyond_ranges, interval_columns
from ..posterior.predict import log_mean_draws, resolve_inputs
from .cost import cost_columns
from .optimum import compute_range, flops_per_token_of, loss_function, optimum, param_draws, positive_array

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["prob_below", "compute_for_target", "compare_plans", "per_draw_compute"]

#: Bisection steps in log compute: 26 decades and more halved 24 times is within 1e-5 relative of C.
BISECTIONS = 24


# --------------------------------------------------------------------------- budget questions
def _noise(fit: FitRecord):
    """(sigma, nu) draws, shape (S, 1); nu is None for a Normal likelihood."""
    sigma = param_draws(fit, "sigma")[:, None]
    nu = param_draws(fit, "nu")[:, None] if fit.likelihood == "student_t" else None
    return sigma, nu


def _cdf(z, nu):
    from scipy import stats

    return stats.norm.cdf(z) if nu is None else stats.t.cdf(z, nu)


def prob_below(fit: FitRecord, target, N=None, D=None, C=None, *, flops_per_token: float | None = None,
               **inputs) -> pd.DataFrame:
    """P(the loss of a model trained at these inputs is below ``target``).

    Predictive: it includes the run-to-run noise of the fitted likelihood,
    integrated exactly for each draw (``P = mean_s F((log t - mu_s)/sigma_s)``
    with F the Student-t or Normal CDF), so the answer has no simulation noise
    beyond the finite posterior sample.

    Returns
    -------
    pandas.DataFrame
        The inputs, ``target``, ``prob_below`` and ``decades_beyond_data``.
    """
    k = flops_per_token_of(fit, flops_per_token)
    table = resolve_inputs(fit.law, k, {"N": N, "D": D, "C": C, **inputs}, fit.observed_ranges())
    target = positive_array("target", target)
    if target.size not in (1, len(table)):
        raise InputError(f"target must be a scalar or have one value per point ({len(table)})")
    target = np.broadcast_to(target, (len(table),))
    post = fit.posterior["posterior"].to_dataset()
    log_mu = log_mean_draws(fit.law, post, {c: table[c].to_numpy() for c in fit.law.inputs.values()})
    offset = fit.offset_draws(table)  # the structural term (and a sampled discrepancy)
    log_mu = (log_mu if offset is None else log_mu + offset).reshape(-1, len(table))
    sigma, nu = _noise(fit)
    p = _cdf((np.log(target)[None, :] - log_mu) / sigma, nu).mean(axis=0)
    out = table.reset_index(drop=True).assign(target=target, prob_below=p)
    out["decades_beyond_data"] = decades_beyond_ranges(out, fit.observed_ranges())
    return out


def _plan_prob(fit, f, log_ck, log_t, sigma, nu, method, fixed) -> tuple[float, float]:
    """Marginal P(loss <= t) at the posterior-median optimal plan for C; returns (P, log N)."""
    opt = optimum(fit, np.array([[log_ck]]), method=method, fixed=fixed, exponents=False)
    log_n = float(np.nanmedian(np.where(opt["interior"], opt["log_N"], np.nan)))
    p = _cdf((log_t - f(np.array([[log_n]]), np.array([[log_ck - log_n]]))) / sigma, nu).mean()
    return float(p), log_n


def compute_for_target(fit: FitRecord, target, prob: float = DEFAULT_PROB, *, interval: float = DEFAULT_PROB,
                       flops_per_token: float | None = None, method: str = "auto", decades=(6, 20),
                       hardware=None, **fixed) -> pd.DataFrame:
    """The compute needed so that loss <= ``target`` with probability ``prob``.

    Two answers per target:

    - the decision: ``C``, with its plan ``N`` (the posterior median of the
      compute-optimal N at that C) and ``D = C/(k N)``, chosen so that
      ``prob_below(target, N=N, D=D) == prob`` (law uncertainty and
      run-to-run noise together);
    - the law's uncertainty about it: for each draw, the compute at which
      that draw's own optimal plan reaches the target with probability
      ``prob`` under the noise alone, summarised as ``C_median/_lower/_upper``
      (and the matching ``N_opt_*``, ``D_opt_*``) with mass ``interval``.
      Draws that never reach the target (the loss floor is above it) give
      ``inf`` and are counted in ``frac_unreachable``.

    The search spans ``decades`` (below, above) the observed compute range. With ``hardware``
    (:class:`~bayes_scaling.decisions.cost.Hardware`) the compute is echoed as ``gpu_hours`` (and
    ``dollars``).

    Raises
    ------
    ValueError
        If the target cannot be reached with probability ``prob`` inside the
        search range, or is already reached below it.
    """
    check_prob(prob)
    from scipy import stats

    targets = positive_array("target", target)
    k = flops_per_token_of(fit, flops_per_token)
    f = loss_function(fit, fixed)
    sigma, nu = _noise(fit)
    c_lo, c_hi = compute_range(fit, k)
    lo, hi = np.log(c_lo / k) - decades[0] * np.log(10), np.log(c_hi / k) + decades[1] * np.log(10)
    rows = []
    for t in targets:
        log_t = np.log(t)
        p_hi, _ = _plan_prob(fit, f, hi, log_t, sigma, nu, method, fixed)
        p_lo, _ = _plan_prob(fit, f, lo, log_t, sigma, nu, method, fixed)
        if p_hi < prob:
            raise InputError(f"target loss {t:g} is not reached with probability {prob:g}: P(loss <= {t:g}) is "
                             f"{p_hi:.3f} even at C = {k * np.exp(hi):.3g} FLOPs (is the target below the "
                             f"fitted loss floor?)")
        if p_lo >= prob:
            raise InputError(f"target loss {t:g} is already reached with probability {prob:g} at "
                             f"C = {k * np.exp(lo):.3g} FLOPs, {decades[0]} decades below the data")
        a, b = lo, hi
        for _ in range(BISECTIONS):
            m = 0.5 * (a + b)
            a, b = (m, b) if _plan_prob(fit, f, m, log_t, sigma, nu, method, fixed)[0] < prob else (a, m)
        p, log_n = _plan_prob(fit, f, b, log_t, sigma, nu, method, fixed)
        # per draw: the compute at which min-loss(C) reaches log t - sigma * F^-1(prob)
        q = stats.norm.ppf(prob) if nu is None else stats.t.ppf(prob, nu)
        goal = (log_t - sigma * q)[:, 0]
        per = per_draw_compute(fit, goal, lo, hi, method, fixed)
        row = {"target": t, "prob": prob, "C": k * np.exp(b), "N": np.exp(log_n), "D": np.exp(b - log_n),
               "prob_below": p}
        for name, v in (("C", k * np.exp(per["log_ck"])), ("N_opt", np.exp(per["log_N"])),
                        ("D_opt", np.exp(per["log_D"]))):
            row.update({key: float(val[0]) for key, val in interval_columns(name, v[:, None], interval).items()})
        row["frac_unreachable"] = float(np.mean(~np.isfinite(per["log_ck"])))
        row["decades_beyond_data"] = float(decades_beyond(np.array([row["C"]]), c_lo, c_hi)[0])
        rows.append(row)
    out = pd.DataFrame(rows)
    _echo_costs(out, hardware)
    out.attrs.update(prob=prob, interval=interval, flops_per_token=k)
    return out


def _echo_costs(out: pd.DataFrame, hardware) -> None:
    """Insert ``gpu_hours`` (and ``dollars``) after ``C`` when ``hardware`` is given."""
    for name, values in reversed(list(cost_columns(out["C"].to_numpy(), hardware).items())):
        out.insert(out.columns.get_loc("C") + 1, name, values)
        out.attrs["hardware"] = hardware.describe()


def per_draw_compute(fit, goal, lo, hi, method, fixed, cost=None) -> dict[str, np.ndarray]:
    """Vectorized bisection over draws: log(C/k) (log C with a ``cost`` model that is not k·N·D)
    where each draw's optimal log-loss equals ``goal``; ``inf`` where it is not reached by ``hi``."""
    def min_loss(log_ck):
        return optimum(fit, log_ck[:, None], method=method, fixed=fixed, exponents=False, cost=cost)

    a, b = np.full(goal.shape, lo), np.full(goal.shape, hi)
    reachable = min_loss(b)["log_loss"][:, 0] <= goal
    for _ in range(BISECTIONS):
        m = 0.5 * (a + b)
        above = min_loss(m)["log_loss"][:, 0] > goal
        a, b = np.where(above, m, a), np.where(above, b, m)
    opt = min_loss(b)
    inf = lambda x: np.where(reachable, x, np.inf)  # noqa: E731
    return {"log_ck": inf(b), "log_N": inf(opt["log_N"][:, 0]), "log_D": inf(opt["log_D"][:, 0])}


def compare_plans(fit: FitRecord, plans, *, prob: float = DEFAULT_PROB, flops_per_token: float | None = None,
                  method: str = "auto", hardware=None, **fixed) -> pd.DataFrame:
    """Compare training plans: loss interval, P(best) and regret, per plan.

    Parameters
    ----------
    plans : DataFrame, list of dicts or dict of lists
        One row per plan with two of ``N``, ``D``, ``C`` (``C = k·N·D``);
        other columns (e.g. ``name``) are kept.

    Returns
    -------
    pandas.DataFrame
        Per plan: ``N``, ``D``, ``C``, ``tokens_per_param``; ``loss_*`` (the
        law's expected loss); ``p_best`` (posterior probability that this plan
        has the lowest loss of the plans given); ``regret_mean`` and
        ``regret_*``: the loss above the per-draw compute-optimal plan at the
        same compute (nats), and ``N_opt_median`` for that compute; with ``hardware``, ``C`` also
        as ``gpu_hours`` (and ``dollars``).
    """
    frame = pd.DataFrame(plans) if not isinstance(plans, pd.DataFrame) else plans.reset_index(drop=True)
    if frame.empty:
        raise InputError("plans is empty: give at least one row with two of N, D, C")
    k = flops_per_token_of(fit, flops_per_token)
    table = _plan_table(frame, k)
    f = loss_function(fit, fixed)
    log_n, log_d = np.log(table["N"])[None, :], np.log(table["D"])[None, :]
    log_loss = f(log_n, log_d)
    n_plans = len(table["N"])
    loss = np.exp(np.broadcast_to(log_loss, (log_loss.shape[0], n_plans)))
    opt = optimum(fit, log_n + log_d, method=method, fixed=fixed, exponents=False)
    best_loss = np.where(opt["interior"], np.exp(opt["log_loss"]), np.nan)
    regret = loss - best_loss
    winner = np.argmin(loss, axis=1)
    out = frame.drop(columns=[c for c in ("N", "D", "C") if c in frame]).assign(**table)
    out["tokens_per_param"] = out["D"] / out["N"]
    out = out.assign(**interval_columns("loss", loss, prob))
    out["p_best"] = np.bincount(winner, minlength=n_plans) / loss.shape[0]
    out["regret_mean"] = np.nanmean(regret, axis=0)
    out = out.assign(**interval_columns("regret", regret, prob))
    out["N_opt_median"] = np.nanmedian(np.where(opt["interior"], np.exp(opt["log_N"]), np.nan), axis=0)
    out["n_not_interior"] = (~opt["interior"]).sum(axis=0)
    lo, hi = compute_range(fit, k)
    out["decades_beyond_data"] = decades_beyond(out["C"].to_numpy(), lo, hi)
    _echo_costs(out, hardware)
    out.attrs.update(prob=prob, flops_per_token=k)
    return out



def _plan_table(frame: pd.DataFrame, k: float) -> dict[str, np.ndarray]:
    """N, D and C of each plan from any two of them (C = k·N·D); errors name the plan rows."""
    cols = {c: (pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float) if c in frame
                else np.full(len(frame), np.nan)) for c in ("N", "D", "C")}
    given = sum(np.isfinite(v).astype(int) for v in cols.values())
    bad = np.flatnonzero(given < 2)
    if bad.size:
        raise InputError(f"each plan needs two of N, D, C (C = {k:g}·N·D); plan row(s) {bad[:5].tolist()} "
                         f"have fewer (columns given: {list(frame.columns)})")
    n, d, c = cols["N"], cols["D"], cols["C"]
    with np.errstate(divide="ignore", invalid="ignore"):
        n = np.where(np.isfinite(n), n, c / (k * d))
        d = np.where(np.isfinite(d), d, c / (k * n))
        implied = k * n * d
        clash = np.isfinite(c) & (np.abs(c / implied - 1) > 1e-6)
    if clash.any():
        raise InputError(f"plan row(s) {np.flatnonzero(clash)[:5].tolist()} give N, D and C with C != {k:g}·N·D; "
                         "give two of the three")
    for name, v in (("N", n), ("D", d)):
        wrong = ~(v > 0) | ~np.isfinite(v)
        if wrong.any():
            raise InputError(f"plan column {name!r} must be finite and > 0; bad in row(s) "
                             f"{np.flatnonzero(wrong)[:5].tolist()}")
    return {"N": n, "D": d, "C": implied}
