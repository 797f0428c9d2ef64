"""The next runs to train: preposterior analysis over the current posterior.

What a run would teach is computed before it is trained. For a *target* quantity of the fit (the
compute-optimal N at a budget, the best loss there, P(loss <= x) for a plan, or the regret of the
plan :func:`~bayes_scaling.decisions.recommendation.recommend` picks), and for each candidate run
(N, D):

1. simulate the run's outcome from the posterior predictive: ``J`` draws, each the law *and the
   structural term* of one posterior draw at (N, D) plus that draw's run-to-run noise (Student-t or
   Normal, in log loss) — so a run in a region where the law's form is in doubt is worth more;
2. for each outcome, reweight every posterior draw by the outcome's likelihood under it (the
   posterior after the run, by importance sampling, weights truncated at ``mean·sqrt(S)`` as in
   Ionides 2008, so that one draw cannot take all the mass);
3. measure the target's uncertainty under the new weights (the width of its ``prob`` interval, or
   for ``"regret"`` the expected regret of the plan chosen after the run), and average over the
   outcomes: the expected uncertainty after the run.

The candidates are ranked by the expected reduction per FLOP, and a batch of ``k`` is chosen
greedily within the total budget, each pick evaluated jointly with the runs already picked (their
simulated outcomes come from the same posterior draw, so the batch is one coherent future). A run
cheaper than its fair share of the remaining budget (what is left over the slots left) is charged
that share: with at most ``k`` runs, FLOPs left unspent buy nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import DecisionInputError
from ..core.intervals import DEFAULT_PROB, check_prob
from .cost import CostModel, ShapeRule, cost_columns, resolve_cost
from .optimum import all_draws, flops_per_token_of, loss_function, optimum, param_draws, positive_array

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["next_runs", "candidate_grid", "TARGETS", "preposterior"]

TARGETS = ("N_opt", "loss", "prob_below", "regret")
OUTCOMES = 64  # simulated outcomes per candidate
CHUNK = 8  # candidates evaluated at once: CHUNK x OUTCOMES x draws floats per temporary
REGRET_GRID = 41


class _Target:
    """A target quantity's draws ``(S,)`` and its uncertainty under weights ``(..., S)``."""

    def __init__(self, fit: FitRecord, kind: str, at: float | None, prob: float, threshold=None, plan=None,
                 cost: CostModel | None = None, fixed: Mapping | None = None):
        if kind not in TARGETS:
            raise DecisionInputError(f"target must be one of {TARGETS}, got {kind!r}")
        self.kind, self.prob, fixed = kind, prob, dict(fixed or {})
        k = cost.flops_per_token
        if kind == "prob_below":
            if threshold is None or not isinstance(plan, Mapping) or not {"N", "D"} <= set(plan):
                raise DecisionInputError("target='prob_below' needs threshold= (a loss) and plan={'N': ..., 'D': ...}")
            f = loss_function(fit, fixed)
            mu = f(np.log([[float(plan["N"])]]), np.log([[float(plan["D"])]]))[:, 0]
            sigma, nu = _noise_draws(fit)
            z = (np.log(positive_array("threshold", threshold)[0]) - mu) / sigma
            from scipy import stats  # scipy.stats: ~1 s to import, paid only when a design is asked

            self.values = stats.norm.cdf(z) if nu is None else stats.t.cdf(z, nu)
            self.label = f"P(loss <= {threshold:g}) at N = {plan['N']:.3g}, D = {plan['D']:.3g}"
            self.scale = self._scale()
            return
        c = positive_array("at", at if at is not None else np.nan)[0]
        opt = optimum(fit, np.array([[np.log(c / k)]]), fixed=fixed, exponents=False)
        if kind == "regret":
            lo, hi = np.quantile(opt["log_N"][:, 0], [0.005, 0.995])
            x = np.linspace(lo - 0.25 * np.log(10), hi + 0.25 * np.log(10), REGRET_GRID)
            f = loss_function(fit, fixed, natural=True)
            self.grid = f(x[None, :], np.log(c / k) - x[None, :])  # (S, G) loss on a grid of plans
            self.best = self.grid.min(axis=1)
            self.values = None
            self.label = f"regret of the recommended plan at C = {c:.3g}"
            return
        self.values = opt["log_N"][:, 0] if kind == "N_opt" else np.exp(opt["log_loss"][:, 0])
        self.label = f"{'log N_opt' if kind == 'N_opt' else 'best loss'} at C = {c:.3g}"
        self.scale = self._scale()

    def expected(self, w: np.ndarray) -> np.ndarray:
        """Expected uncertainty after the runs, from normalised weights ``(..., J, S)``, one set per
        simulated outcome: the expected regret of the plan chosen then, or an interval width.

        The width comes from the law of total variance: the expected posterior variance is the
        current variance minus the variance, over the outcomes, of the posterior mean (each mean's
        own importance-sampling noise, variance/ESS, subtracted), scaled to a width by the current
        width/SD ratio. Its Monte Carlo error is a fraction of the gain itself, where averaging
        per-outcome widths would add reweighting noise as large as a single run's gain."""
        if self.kind == "regret":
            risk = w @ self.grid  # (..., J, G)
            return (risk.min(axis=-1) - w @ self.best).mean(axis=-1)
        m = w @ self.values  # (..., J)
        var_w = np.maximum(w @ self.values**2 - m**2, 0.0)
        noise = var_w * (w**2).sum(axis=-1)  # var/ESS of each weighted mean
        between = np.maximum(m.var(axis=-1, ddof=1) - noise.mean(axis=-1), 0.0)
        return np.sqrt(np.maximum(self.values.var() - between, 0.0)) * self.scale

    def now(self, s: int) -> float:
        """The current uncertainty (equal weights)."""
        if self.kind == "regret":
            return float(self.grid.mean(axis=0).min() - self.best.mean())
        return float(self.values.std() * self.scale)

    def _scale(self) -> float:
        tail = (1 - self.prob) / 2
        lo, hi = np.quantile(self.values, [tail, 1 - tail])
        sd = self.values.std()
        return float((hi - lo) / sd) if sd > 0 else 0.0


def _noise_draws(fit: FitRecord):
    sigma = param_draws(fit, "sigma")
    nu = param_draws(fit, "nu") if fit.likelihood == "student_t" else None
    return sigma, nu


def _weights(log_w: np.ndarray) -> np.ndarray:
    """Normalised importance weights from log weights ``(..., S)``, truncated at mean·sqrt(S)."""
    w = np.exp(log_w - log_w.max(axis=-1, keepdims=True))
    w /= w.sum(axis=-1, keepdims=True)
    s = w.shape[-1]
    w = np.minimum(w, np.sqrt(s) / s)
    return w / w.sum(axis=-1, keepdims=True)


class _Simulator:
    """Simulated outcomes of candidate runs and their log likelihood under every draw."""

    def __init__(self, fit: FitRecord, fixed: Mapping, seed: int, outcomes: int):
        self.f = loss_function(fit, fixed, all_draws(fit))
        self.sigma, self.nu = _noise_draws(fit)
        from scipy import special

        # the log density's terms that depend on the draw only (Normal, or Student-t with nu degrees)
        self.const = -np.log(self.sigma) - 0.5 * np.log(2 * np.pi) if self.nu is None else (
            special.gammaln((self.nu + 1) / 2) - special.gammaln(self.nu / 2) - 0.5 * np.log(np.pi * self.nu)
            - np.log(self.sigma))
        self.seed = seed
        self.source = np.random.default_rng([seed, 16]).integers(0, len(self.sigma), outcomes)  # outcome's draw

    def log_lik(self, log_n: np.ndarray, log_d: np.ndarray, slot: int) -> np.ndarray:
        """``(candidates, J, S)``: log p(y_cj | draw s) for outcomes y simulated in batch position ``slot``."""
        mu = self.f(log_n[None, :], log_d[None, :])  # (S, n)
        eps_rng = np.random.default_rng([self.seed, 23, slot])  # the same noise for every candidate in a slot
        j = self.source
        z = eps_rng.standard_normal(len(j)) if self.nu is None else eps_rng.standard_t(self.nu[j])
        y = mu[j, :].T + (self.sigma[j] * z)[None, :]  # (n, J)
        resid = (y[:, :, None] - mu.T[:, None, :]) / self.sigma[None, None, :]
        if self.nu is None:
            return -0.5 * resid**2 + self.const
        return self.const - 0.5 * (self.nu + 1) * np.log1p(resid**2 / self.nu)


def candidate_grid(fit: FitRecord, per_run: float, *, cost: CostModel, levels: int = 8, ratios: int = 6,
                   tokens_per_param=None) -> pd.DataFrame:
    """Candidate runs: ``levels`` compute levels from the smallest run's compute to ``per_run``, times
    ``ratios`` tokens per parameter spanning the runs' own (or ``tokens_per_param``)."""
    c_runs = fit.runs.compute(cost.flops_per_token)
    tpp = fit.runs.values("D") / fit.runs.values("N")
    lo_t, hi_t = tokens_per_param or (max(tpp.min(), 1.0), tpp.max())
    c = np.geomspace(min(c_runs.min(), per_run / 10), per_run, levels)
    r = np.geomspace(lo_t, max(hi_t, lo_t * 1.01), ratios)
    cc, rr = np.meshgrid(c, r, indexing="ij")
    n = np.sqrt(cc.ravel() / (cost.flops_per_token * rr.ravel()))
    return pd.DataFrame({"N": n, "D": rr.ravel() * n})


def _candidates(candidates, fit, per_run, cost) -> pd.DataFrame:
    if candidates is None:
        return candidate_grid(fit, per_run, cost=cost)
    frame = pd.DataFrame(candidates).reset_index(drop=True)
    if not {"N", "D"} <= set(frame.columns):
        raise DecisionInputError(f"candidates need columns N and D (one row per run), got {list(frame.columns)}")
    for col in ("N", "D"):
        positive_array(f"candidates column {col!r}", frame[col])
    c = np.exp(cost.log_compute(np.log(frame["N"].to_numpy(float)), np.log(frame["D"].to_numpy(float))))
    over = np.flatnonzero(c > per_run * (1 + 1e-9))
    if over.size:
        raise DecisionInputError(f"candidate row(s) {over[:5].tolist()} cost more than the per-run budget "
                                 f"{per_run:.3g} FLOPs (C = {c[over[0]]:.3g} at row {over[0]}): drop them or "
                                 "raise per_run=")
    return frame[["N", "D"]].astype(float)


def preposterior(target: _Target, sim: _Simulator, log_n: np.ndarray, log_d: np.ndarray, slot: int,
                 base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected uncertainty after each candidate (joint with ``base``, the batch's log weights ``(J, S)``)
    and the mean effective sample size of the weights."""
    out, ess = [], []
    for start in range(0, len(log_n), CHUNK):
        w = _weights(base[None] + sim.log_lik(log_n[start:start + CHUNK], log_d[start:start + CHUNK], slot))
        out.append(target.expected(w))
        ess.append((1 / (w**2).sum(axis=-1)).mean(axis=-1))
    return np.concatenate(out), np.concatenate(ess)


def next_runs(fit: FitRecord, target: str = "N_opt", *, at=None, budget, k: int = 3, candidates=None,
              per_run=None, prob: float = DEFAULT_PROB, threshold=None, plan=None, cost: CostModel | None = None,
              shape: ShapeRule | None = None, flops_per_token: float | None = None, seed: int | None = None,
              hardware=None, **fixed) -> pd.DataFrame:
    """The runs to train next: the batch that most reduces the target's uncertainty per FLOP.

    Parameters
    ----------
    target : {"N_opt", "loss", "prob_below", "regret"}
        What to learn: the compute-optimal N at budget ``at`` (the width of its interval, in log N),
        the best loss at ``at``, P(loss <= ``threshold``) for ``plan`` ({"N": ..., "D": ...}), or the
        regret of the plan recommended at ``at`` (expected regret, nats).
    budget : float
        Total FLOPs for the batch.
    k : int
        At most this many runs.
    candidates : DataFrame, optional
        Runs to choose from (columns N and D); default :func:`candidate_grid` within ``per_run``.
    per_run : float, optional
        The most FLOPs one run may cost (default ``budget``).
    shape : ShapeRule, optional
        The architecture reported for each run (default ``ShapeRule()``).
    hardware : Hardware, optional
        Echo each run's compute as ``gpu_hours`` (and ``dollars``).

    Returns
    -------
    pandas.DataFrame
        The batch in pick order: ``N``, ``D``, ``C``, ``tokens_per_param``, an architecture
        (``n_layer``, ``d_model``, ``n_heads``), ``expected_uncertainty`` (after this and the earlier
        picks), ``expected_gain`` (its reduction by this pick), ``gain_per_exaflop`` and ``ess``
        (the importance weights' effective sample size: small means the run would teach more than
        reweighting can tell). ``attrs``: the target, its current uncertainty, the candidates scored.
    """
    check_prob(prob)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise DecisionInputError(f"k must be an integer >= 1 (the most runs to pick), got {k!r}")
    total = positive_array("budget", budget)[0]
    per_run = total if per_run is None else positive_array("per_run", per_run)[0]
    cost = resolve_cost(flops_per_token_of(fit, flops_per_token), cost, 0.0)
    frame = _candidates(candidates, fit, min(per_run, total), cost)
    aim = _Target(fit, target, at, prob, threshold, plan, cost, fixed)
    sim = _Simulator(fit, fixed, fit.seed_or(seed), OUTCOMES)
    log_n, log_d = np.log(frame["N"].to_numpy()), np.log(frame["D"].to_numpy())
    c = np.exp(cost.log_compute(log_n, log_d))
    s = len(sim.sigma)
    base = np.zeros((OUTCOMES, s))
    now = aim.now(s)
    rows, left, current, taken = [], total, now, np.zeros(len(c), dtype=bool)
    for slot in range(k):
        fits = ~taken & (c <= left * (1 + 1e-9))
        if not fits.any():
            break
        idx = np.flatnonzero(fits)
        after, ess = preposterior(aim, sim, log_n[idx], log_d[idx], slot, base)
        # a run cheaper than its share of what is left is charged the share: with k slots, the FLOPs it
        # leaves unspent buy nothing, so among such runs the larger gain wins
        score = (current - after) / np.maximum(c[idx], left / (k - slot))
        best = int(np.argmax(score))
        i = idx[best]
        rows.append({"N": frame["N"].iloc[i], "D": frame["D"].iloc[i], "C": c[i],
                     "tokens_per_param": frame["D"].iloc[i] / frame["N"].iloc[i], "expected_uncertainty": after[best],
                     "expected_gain": current - after[best], "gain_per_exaflop": (current - after[best]) / c[i] * 1e18,
                     "ess": ess[best]})
        base = base + sim.log_lik(log_n[i:i + 1], log_d[i:i + 1], slot)[0]
        current, left, taken[i] = after[best], left - c[i], True
    out = pd.DataFrame(rows)
    arch = (shape or ShapeRule()).architecture(out["N"].to_numpy()) if len(out) else pd.DataFrame()
    out = pd.concat([out, arch[["n_layer", "d_model", "n_heads"]]], axis=1) if len(out) else out
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    for name, values in reversed(list(cost_columns(out["C"].to_numpy() if len(out) else [], hardware).items())):
        out.insert(out.columns.get_loc("C") + 1, name, values)
    out.attrs.update(target=aim.label, uncertainty_now=now, measure=("expected regret (nats)" if target == "regret"
                     else f"{prob:.0%} interval width"), candidates=len(frame), budget=total, per_run=per_run)
    return out
