"""The per-draw compute-optimal allocation: the numeric core of :mod:`bayes_scaling.decisions`.

For a law of N and D and a budget ``C = k·N·D``, the optimum of every
posterior draw at every budget is found at once, on arrays shaped
``(draws, budgets)``:

- Chinchilla-form laws (``E + A/N**alpha + B/D**beta``, any names, any
  order; see :func:`chinchilla_terms`) use the closed form of Hoffmann et al.
  2022, Eq. 4: ``N_opt = G (C/k)^a``, ``G = (alpha A / (beta B))^(1/(alpha+beta))``,
  ``a = beta/(alpha+beta)``.
- Any other law: a golden-section search in log N, bracketed by a range of
  tokens per parameter, polished by two finite-difference Newton steps;
  the local exponent ``a = d log N_opt / d log C`` comes from the implicit
  function theorem. Optima at the bracket ends, or without positive
  curvature, are flagged ``interior=False``, never silently kept.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from ..core.checks import positive_array
from ..core.errors import InputError
from ..law.evaluate import log_value, value
from ..law.forms import chinchilla_terms
from ..posterior.structural import log_coordinates

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["optimum", "loss_function", "param_draws", "positive_array", "flops_per_token_of", "compute_range",
           "search_bounds", "all_draws", "METHODS", "TOKENS_PER_PARAM_BOUNDS", "EXPLORED_MARGIN", "DELTA"]

METHODS = ("auto", "closed_form", "numeric")
DELTA = "__structural_weights"  # key of the structural term's per-draw weights in a params dict
GOLDEN = (np.sqrt(5.0) - 1.0) / 2.0
#: Default search range of the numeric solver, in tokens per parameter (D/N).
TOKENS_PER_PARAM_BOUNDS = (1e-3, 1e7)
#: With a structural term: the search spans the runs' D/N widened by this many decades on each side.
EXPLORED_MARGIN = 0.5


def param_draws(fit: FitRecord, name: str) -> np.ndarray:
    """All posterior draws of one variable, flattened over chains: shape ``(S,)``.

    Refuses a fit with a model discrepancy (:mod:`bayes_scaling.pymc_model.discrepancy`): the decisions built
    on these draws evaluate the law alone, and would silently drop the discrepancy.
    """
    if getattr(fit, "discrepancy", None) is not None:
        raise InputError("this fit has a model discrepancy (discrepancy='gp'); decisions that optimise or "
                         "invert the law (allocate, prob_below, compute_for_target, compare_plans, Kaplan's "
                         "helpers) do not carry it yet: use fit.predict(..., kind='predictive'), or refit "
                         "without the discrepancy")
    return np.asarray(fit.posterior["posterior"][name].values, dtype=float).reshape(-1)


def flops_per_token_of(fit: FitRecord, flops_per_token: float | None) -> float:
    """K in C = k·N·D: the runs table's, or the one asked for (finite and > 0)."""
    k = fit.runs.flops_per_token if flops_per_token is None else float(flops_per_token)
    if not (np.isfinite(k) and k > 0):
        raise InputError(f"flops_per_token must be finite and > 0, got {flops_per_token}")
    return float(k)


def compute_range(fit: FitRecord, k: float) -> tuple[float, float]:
    """(min, max) of the runs' training compute (column C, else k·N·D)."""
    c = fit.runs.compute(k)
    return float(c.min()), float(c.max())


def loss_function(fit: FitRecord, fixed: Mapping[str, float] | None = None,
                  params: Mapping[str, np.ndarray] | None = None, *, structural: bool = True,
                  natural: bool = False) -> Callable:
    """``f(log_N, log_D) -> log L`` over all draws (parameters shaped ``(S, 1)``), the fit's structural
    term included (one function per draw; ``structural=False``: the law alone). ``natural=True``:
    ``L`` itself, by the faster :func:`~bayes_scaling.law.evaluate.value`.

    ``params`` (name -> draws, as :func:`all_draws` gives them) restricts it to some draws.

    Raises
    ------
    ValueError
        The law has no inputs N and D (e.g. L(N) alone), or another input
        is needed and not given in ``fixed``.
    """
    law = fit.law
    cols = set(law.inputs.values())
    if not {"N", "D"} <= cols:
        raise InputError(f"this decision needs a law of N and D; law {law.name!r} has inputs "
                         f"{sorted(cols)} (fit e.g. 'chinchilla' or 'kaplan_nd')")
    fixed = dict(fixed or {})
    missing = cols - {"N", "D"} - set(fixed)
    if missing:
        raise InputError(f"law {law.name!r} also needs input(s) {sorted(missing)}: pass them as "
                         f"keywords, e.g. {sorted(missing)[0]}=...")
    unknown = set(fixed) - (cols - {"N", "D"})
    if unknown:
        raise InputError(f"law {law.name!r} takes no fixed input(s) {sorted(unknown)}")
    params = params if params is not None else all_draws(fit, structural)
    columns = {name: params[name][:, None] for name in law.parameters}
    logs = {col: np.log(positive_array(col, value)[0]) for col, value in fixed.items()}
    term = fit.structural if structural else None
    weights = params[DELTA][:, None, :] if term is not None else None

    def f(log_n, log_d):
        inputs = {**logs, "N": log_n, "D": log_d}
        out = value(law, columns, inputs) if natural else log_value(law, columns, inputs)
        if term is None:
            return out
        x = log_coordinates(term.columns, term.flops_per_token, inputs)
        delta = term.evaluate(weights, x if x.ndim == 3 else x[None])
        return out * np.exp(delta) if natural else out + delta

    return f


def all_draws(fit: FitRecord, structural: bool = True) -> dict[str, np.ndarray]:
    """Every law parameter's draws ``(S,)``, and the structural term's feature weights ``(S, J)`` (key
    :data:`DELTA`) when the fit has one: one function of the term per posterior draw."""
    out = {name: param_draws(fit, name) for name in fit.law.parameters}
    if structural and fit.structural is not None:
        out[DELTA] = fit.structural.weight_draws(len(next(iter(out.values()))), fit.seed_or(None))
    return out


def _closed_form(params: Mapping[str, np.ndarray], terms: Mapping[str, str], log_ck: np.ndarray):
    al, be = (params[terms[k]][:, None] for k in ("alpha", "beta"))
    log_a, log_b = (np.log(params[terms[k]])[:, None] for k in ("A", "B"))
    a = be / (al + be)
    log_g = (np.log(al) + log_a - np.log(be) - log_b) / (al + be)
    log_n = log_g + a * log_ck
    shape = np.broadcast_shapes(log_n.shape, np.shape(log_ck))
    a = np.broadcast_to(a, shape)
    return np.broadcast_to(log_n, shape), a, np.broadcast_to(log_g, shape), np.ones(shape, dtype=bool)


def _plain_tokens(x, c):
    """Log D of the plan with log N = x on the budget c = log(C/k)."""
    return c - x


def _golden(f: Callable, log_ck: np.ndarray, lo: np.ndarray, hi: np.ndarray, tokens: Callable = _plain_tokens,
            iters: int = 12, newton: int = 2, h: float = 1e-3):
    """Minimise ``f(x, tokens(x, c))`` over x = log N in ``[lo, hi]`` for every element, vectorized.

    A golden-section search narrows the bracket (``iters`` steps, to about
    0.3% of its width: 0.04 in log N), then ``newton`` finite-difference
    Newton steps, kept inside the final bracket, polish the minimiser to
    ~1e-8. Returns the minimiser, ``f`` there, the curvature ``f_xx`` (from
    the last Newton step) and whether the minimiser is interior (not at the
    search bounds, finite, and with positive curvature).
    """
    x1, x2 = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
    f1, f2 = f(x1, tokens(x1, log_ck)), f(x2, tokens(x2, log_ck))
    shape = np.broadcast_shapes(np.shape(f1), np.shape(lo))
    a, b, c, x1, x2 = (np.broadcast_to(v, shape) for v in (lo, hi, log_ck, x1, x2))
    for _ in range(iters):
        left = ~(f1 > f2)  # the minimum is in [a, x2]; NaN moves left
        b = np.where(left, x2, b)
        a = np.where(left, a, x1)
        x_new = np.where(left, b - GOLDEN * (b - a), a + GOLDEN * (b - a))
        f_new = f(x_new, tokens(x_new, c))
        x2, f2, x1, f1 = (np.where(left, x1, x_new), np.where(left, f1, f_new),
                          np.where(left, x_new, x2), np.where(left, f_new, f2))
    x = 0.5 * (a + b)
    for _ in range(newton):
        fm, f0, fp = f(x - h, tokens(x - h, c)), f(x, tokens(x, c)), f(x + h, tokens(x + h, c))
        curv = (fp - 2 * f0 + fm) / h**2
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(curv > 0, -(fp - fm) / (2 * h * curv), 0.0)
        x = np.clip(x + np.nan_to_num(step), a, b)
    lo, hi = np.broadcast_to(lo, shape), np.broadcast_to(hi, shape)
    width = hi - lo
    interior = (x - lo > 1e-4 * width) & (hi - x > 1e-4 * width) & (curv > 0)
    fx = f(x, tokens(x, c))
    return x, fx, curv, interior & np.isfinite(fx)


def _local_exponent(f: Callable, x: np.ndarray, c: np.ndarray, f_xx: np.ndarray, tokens: Callable = _plain_tokens,
                    h: float = 1e-3):
    """D log N_opt / d log C at the optimum, by the implicit function theorem: -f_xc / f_xx."""
    g = lambda dx, dc: f(x + dx, tokens(x + dx, c + dc))  # noqa: E731
    f_xc = (g(h, h) - g(h, -h) - g(-h, h) + g(-h, -h)) / (4 * h**2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -f_xc / f_xx


def search_bounds(fit: FitRecord, bounds=None) -> tuple[float, float]:
    """The range of tokens per parameter (D/N) an optimum is searched in.

    ``bounds`` when given; else :data:`TOKENS_PER_PARAM_BOUNDS` for a law alone, and for a fit with a
    structural term the runs' own range of D/N widened by :data:`EXPLORED_MARGIN` decades on each
    side: outside it the term is its prior (it knows nothing there), and an optimum found there
    would be the optimizer's curse, not a plan. Optima at these bounds are not interior (counted).
    """
    if bounds is not None:
        lo, hi = (float(b) for b in bounds)
        if not (0 < lo < hi and np.isfinite(hi)):
            raise InputError(f"bounds must be (low, high) tokens per parameter with 0 < low < high, got {bounds!r}")
        return lo, hi
    if fit.structural is None or not (fit.runs.has("N") and fit.runs.has("D")):
        return TOKENS_PER_PARAM_BOUNDS
    tpp = fit.runs.values("D") / fit.runs.values("N")
    return float(tpp.min() / 10**EXPLORED_MARGIN), float(tpp.max() * 10**EXPLORED_MARGIN)


def optimum(fit: FitRecord, log_ck, *, method: str = "auto", bounds=None,
            fixed: Mapping[str, float] | None = None, exponents: bool = True, cost=None) -> dict[str, np.ndarray]:
    """Per-draw compute-optimal allocation at ``log(C/k)`` (broadcast against ``(S, 1)``).

    With a ``cost`` (:class:`~bayes_scaling.decisions.cost.CostModel`) that is not ``k·N·D`` alone
    (an attention term, a fitted power law, inference tokens), ``log_ck`` is ``log C`` and the
    constraint is solved for D by the cost model; always numeric.

    Returns arrays ``log_N``, ``log_D``, ``log_loss``, ``a``, ``log_G`` and
    ``interior`` (bool), each shaped ``(S, budgets)``, and ``method`` used.
    The draws are processed in blocks of about 32k elements, which keeps the
    work arrays in cache (about 3x faster than whole-array numpy here).
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, got {method!r}")
    loss_function(fit, fixed, {p: np.ones(1) for p in fit.law.parameters}, structural=False)  # checks inputs first
    general = cost is not None and not cost.plain
    terms = chinchilla_terms(fit.law) if fit.structural is None and not general else None  # no closed form
    if method == "closed_form" and terms is None:
        why = ("its cost model is not C = k·N·D, and is not" if general else
               "its structural term is not" if fit.structural is not None else f"law {fit.law.name!r} is not")
        raise InputError(f"no closed form: {why} of the Chinchilla form E + A/N**alpha + B/D**beta; "
                         "use method='numeric' (or 'auto')")
    used = "closed_form" if method != "numeric" and terms is not None else "numeric"
    bounds = search_bounds(fit, bounds)
    log_ck = np.atleast_2d(np.asarray(log_ck, dtype=float))
    if general:
        constraint = (cost.log_tokens, cost.log_n_at(log_ck, bounds[1]), cost.log_n_at(log_ck, bounds[0]))
    else:
        constraint = (_plain_tokens, 0.5 * (log_ck - np.log(bounds[1])), 0.5 * (log_ck - np.log(bounds[0])))
    params = all_draws(fit)
    n = len(params[next(iter(fit.law.parameters))])
    per_draw = log_ck.shape[0] == n and n > 1
    # draws per block: about 32k (draw, budget) cells, or 8k with the term (each cell then holds its
    # 256 random features: 16 MB per temporary)
    step = max(1, (32768 if DELTA not in params else 8192) // log_ck.shape[1])
    blocks = []
    for start in range(0, n, step):
        rows = slice(start, start + step)
        sub = {k: v[rows] for k, v in params.items()}
        block = (lambda v: v[rows]) if per_draw else (lambda v: v)  # noqa: E731
        blocks.append(_optimum_block(loss_function(fit, fixed, sub), sub, terms if used == "closed_form" else None,
                                     block(log_ck), (constraint[0], block(constraint[1]), block(constraint[2])),
                                     exponents))
    out = {key: np.concatenate([b[key] for b in blocks]) for key in blocks[0]}
    out["method"] = used
    return out


def _optimum_block(f, params, terms, log_ck, constraint, exponents) -> dict[str, np.ndarray]:
    tokens, lo, hi = constraint
    if terms is not None:
        log_n, a, log_g, interior = _closed_form(params, terms, log_ck)
        log_loss = f(log_n, np.broadcast_to(log_ck, log_n.shape) - log_n)
    else:
        log_n, log_loss, curv, interior = _golden(f, log_ck, lo, hi, tokens)
        c = np.broadcast_to(log_ck, log_n.shape)
        a = _local_exponent(f, log_n, c, curv, tokens) if exponents else np.full(log_n.shape, np.nan)
        log_g = log_n - a * c
    log_d = tokens(log_n, np.broadcast_to(log_ck, log_n.shape))
    return {"log_N": log_n, "log_D": log_d, "log_loss": log_loss, "a": a, "log_G": log_g,
            "interior": interior}
