"""Kaplan et al. 2020 decisions: the compute-efficient frontier and the overfitting rule.

Compute-efficient frontier (Kaplan Sec. 6.1 and App. B.2). With the learning
curve ``L(N, S_min) = (N_c/N)^alpha_N + (S_c/S_min)^alpha_S`` (law
``kaplan_ns``) and the critical batch ``B_crit(L) = B*/L^(1/alpha_B)`` (law
``kaplan_bcrit``), the minimum compute to reach loss L with a model of size N
is ``C_min = 6 N B_crit(L) S_min``. Minimising L at fixed C_min puts the model
term at ``alpha_S/alpha_N`` times the step term, so every quantity is a power
of C_min, for every posterior draw exactly::

    L      = (C_c / C_min)^alpha_C,   alpha_C = 1 / (1/alpha_N + 1/alpha_S + 1/alpha_B)
    N      = N_c (L alpha_S / (alpha_N + alpha_S))^(-1/alpha_N)       ∝ C_min^(alpha_C/alpha_N)
    B      = B_crit(L) = B* L^(-1/alpha_B)                             ∝ C_min^(alpha_C/alpha_B)
    S_min  = S_c (L alpha_N / (alpha_N + alpha_S))^(-1/alpha_S)       ∝ C_min^(alpha_C/alpha_S)
    D      = B · S = 2 B S_min   (tokens when trained at B = B_crit, where S = 2 S_min)

C_min is in FLOPs and N, as in Kaplan, excludes embeddings. The two laws
share no parameter, so fitting them to their two datasets separately gives
the same joint posterior as fitting them together: draws of the two fits are
paired (resampled with a seed when their numbers differ).

Overfitting rule (Kaplan Sec. 4, Eq. 4.4): for a law of N and D, the tokens
needed so that ``L(N, D) / L(N, inf) - 1 <= max_penalty``, found per draw by
bisection in log D (so it works for any law of N and D; for ``kaplan_nd``
it equals ``D_c (N/N_c)^(alpha_N/alpha_D) / ((1 + p)^(1/alpha_D) - 1)``).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import InputError
from ..core.intervals import DEFAULT_PROB, interval_columns
from ..data.checkpoints import to_s_min
from ..law.spec import load_law
from .optimum import loss_function, param_draws, positive_array

if TYPE_CHECKING:
    import xarray as xr

    from ..posterior.record import FitRecord

__all__ = ["frontier", "frontier_draws", "frontier_exponents", "data_for_overfitting", "to_s_min"]

_NS = ("alpha_N", "alpha_S", "Nc", "Sc")
_BCRIT = ("alpha_B", "Bstar")
#: log D standing in for D = infinity (every power-law term in D vanishes in log space).
_LOG_D_INFINITY = 1e4


def _same_law(fit: FitRecord, name: str) -> None:
    ref = load_law(name)
    law = getattr(fit, "law", None)
    if law is None or ast.dump(law.formula.tree) != ast.dump(ref.formula.tree) or law.inputs != ref.inputs:
        got = getattr(law, "name", type(fit).__name__)
        raise InputError(f"the compute-efficient frontier needs a fit of {name!r} ({ref.formula.source}); "
                         f"got {got!r}")


def _paired_draws(ns_fit: FitRecord, bcrit, seed: int) -> dict[str, np.ndarray]:
    _same_law(ns_fit, "kaplan_ns")
    out = {p: param_draws(ns_fit, p) for p in _NS}
    n = len(out["Nc"])
    if isinstance(bcrit, Mapping):
        missing = set(_BCRIT) - set(bcrit)
        if missing:
            raise InputError(f"fixed B_crit constants need {sorted(missing)} (e.g. Kaplan's alpha_B=0.21, "
                             "Bstar=2.1e8 tokens)")
        return out | {p: np.full(n, float(positive_array(p, bcrit[p])[0])) for p in _BCRIT}
    _same_law(bcrit, "kaplan_bcrit")
    other = {p: param_draws(bcrit, p) for p in _BCRIT}
    m = len(other["Bstar"])
    idx = np.arange(n) if m == n else np.random.default_rng(seed).integers(0, m, n)
    return out | {p: v[idx] for p, v in other.items()}


def _frontier_arrays(p: Mapping[str, np.ndarray], log_c: np.ndarray) -> dict[str, np.ndarray]:
    a_n, a_s, a_b = (p[k][:, None] for k in ("alpha_N", "alpha_S", "alpha_B"))
    log_nc, log_sc, log_bs = (np.log(p[k])[:, None] for k in ("Nc", "Sc", "Bstar"))
    alpha_c = 1.0 / (1 / a_n + 1 / a_s + 1 / a_b)
    share_n, share_s = np.log(a_s / (a_n + a_s)), np.log(a_n / (a_n + a_s))
    log_cc = np.log(6.0) + log_nc + log_sc + log_bs - share_n / a_n - share_s / a_s
    log_l = alpha_c * (log_cc - log_c)
    log_n = log_nc - (log_l + share_n) / a_n
    log_b = log_bs - log_l / a_b
    log_smin = log_sc - (log_l + share_s) / a_s
    return {"loss": np.exp(log_l), "N": np.exp(log_n), "B": np.exp(log_b), "S_min": np.exp(log_smin),
            "D": 2 * np.exp(log_b + log_smin), "alpha_C_min": np.broadcast_to(alpha_c, log_l.shape),
            "C_c_min": np.broadcast_to(np.exp(log_cc), log_l.shape)}


def frontier_draws(ns_fit: FitRecord, bcrit, C_min, *, seed: int = 0) -> xr.Dataset:
    """Posterior draws of the frontier at each C_min (FLOPs): Dataset ``(sample, budget)``.

    ``bcrit`` is a fit of ``kaplan_bcrit`` or fixed constants
    ``{"alpha_B": ..., "Bstar": ...}`` (e.g. Kaplan's 0.21 and 2.1e8 tokens).
    """
    import xarray as xr

    c = positive_array("C_min", C_min)
    arrays = _frontier_arrays(_paired_draws(ns_fit, bcrit, seed), np.log(c)[None, :])
    return xr.Dataset({k: (("sample", "budget"), v) for k, v in arrays.items()}, coords={"C_min": ("budget", c)})


def frontier(ns_fit: FitRecord, bcrit, C_min, *, prob: float = DEFAULT_PROB, seed: int = 0) -> pd.DataFrame:
    """Kaplan's compute-efficient training: N, B, S_min, S, D and loss per C_min, with intervals.

    Returns
    -------
    pandas.DataFrame
        One row per ``C_min`` (FLOPs; PF-days = 8.64e19 FLOPs):
        ``N_*`` (non-embedding parameters), ``B_*`` (batch size in tokens,
        = B_crit), ``S_min_*`` (steps at large batch), ``D_*`` (tokens, at
        B = B_crit) and ``loss_*``.
    """
    ds = frontier_draws(ns_fit, bcrit, C_min, seed=seed)
    out = pd.DataFrame({"C_min": ds["C_min"].values})
    for name in ("N", "B", "S_min", "D", "loss"):
        out = out.assign(**interval_columns(name, ds[name].values, prob))
    out.attrs.update(prob=prob)
    return out


def frontier_exponents(ns_fit: FitRecord, bcrit, *, prob: float = DEFAULT_PROB, seed: int = 0) -> pd.DataFrame:
    """Posterior of the frontier's exponents (Kaplan's N ∝ C^0.73, B ∝ C^0.24, S ∝ C^0.03, D ∝ C^0.27).

    Rows ``alpha_C_min`` (L ∝ C_min^-alpha_C_min), ``N``, ``B``, ``S_min``,
    ``D`` (the exponent of each in C_min) and ``C_c_min`` (FLOPs); columns
    ``median``, ``lower``, ``upper``.
    """
    p = _paired_draws(ns_fit, bcrit, seed)
    a_c = 1.0 / (1 / p["alpha_N"] + 1 / p["alpha_S"] + 1 / p["alpha_B"])
    c_c = _frontier_arrays(p, np.zeros((1, 1)))["C_c_min"][:, 0]
    rows = {"alpha_C_min": a_c, "N": a_c / p["alpha_N"], "B": a_c / p["alpha_B"], "S_min": a_c / p["alpha_S"],
            "D": a_c / p["alpha_B"] + a_c / p["alpha_S"], "C_c_min": c_c}
    table = {k: interval_columns("x", v[:, None], prob) for k, v in rows.items()}
    return pd.DataFrame({k: {c.split("_", 1)[1]: float(v[0]) for c, v in cols.items()} for k, cols in table.items()}).T


def data_for_overfitting(fit: FitRecord, N, max_penalty: float = 0.02, *, prob: float = DEFAULT_PROB,
                         **fixed) -> pd.DataFrame:
    """Tokens D needed to keep the overfitting penalty ``L(N,D)/L(N,inf) - 1`` below ``max_penalty``.

    Kaplan's rule (Eq. 4.4: D ≳ 5e3 N^0.74 for 2%) for any fitted law of N
    and D; per draw by bisection in log D. The law alone (its own limit D -> infinity), without the
    fit's structural term.

    Returns
    -------
    pandas.DataFrame
        Per N: ``D_*`` (tokens), ``tokens_per_param_*`` and ``exponent_*``
        (the local d log D / d log N; alpha_N/alpha_D for ``kaplan_nd``).
    """
    if not max_penalty > 0:
        raise InputError(f"max_penalty must be > 0 (a fraction, e.g. 0.02 for 2%), got {max_penalty}")
    n = positive_array("N", N)
    f = loss_function(fit, fixed, structural=False)  # L(N, D -> inf): the law's own limit, not the term's
    log_n = np.log(n)[None, :]
    log_d, ok = _penalty_root(f, log_n, max_penalty)
    h = 0.01
    up, ok_up = _penalty_root(f, log_n + h, max_penalty)
    down, ok_down = _penalty_root(f, log_n - h, max_penalty)
    ok = ok & ok_up & ok_down
    d = np.where(ok, np.exp(log_d), np.nan)
    out = pd.DataFrame({"N": n, "max_penalty": max_penalty})
    out = out.assign(**interval_columns("D", d, prob), **interval_columns("tokens_per_param", d / n, prob),
                     **interval_columns("exponent", np.where(ok, (up - down) / (2 * h), np.nan), prob))
    out["n_not_interior"] = (~ok).sum(axis=0)
    out.attrs.update(prob=prob)
    return out


def _penalty_root(f, log_n: np.ndarray, penalty: float, lo: float = 0.0, hi: float = 230.0):
    """Log D where ``log L(N, D) - log L(N, inf) = log(1 + penalty)``, per draw (bisection)."""
    goal = np.log1p(penalty)
    floor = f(log_n, np.full_like(log_n, _LOG_D_INFINITY))
    gap = lambda log_d: f(log_n, log_d) - floor - goal  # noqa: E731  (decreasing in log D)
    shape = np.broadcast_shapes(floor.shape, log_n.shape)
    a, b = np.full(shape, lo), np.full(shape, hi)
    ok = (gap(a) > 0) & (gap(b) < 0)
    for _ in range(60):
        m = 0.5 * (a + b)
        above = gap(m) > 0
        a, b = np.where(above, m, a), np.where(above, b, m)
    return 0.5 * (a + b), ok
