"""The Laplace start of a large model: NUTS in the coordinates where the posterior's Gaussian
approximation at its mode is standard Normal.

A Student-t fit with centred run offsets has a parameter per run (207 at 200 runs). Its posterior is
close to Gaussian (each offset is pinned by its run's rows), but correlated along directions that
span every offset: their common level trades against the law's reference levels, their trend in
log N against the law's exponent. nutpie's diagonal adaptation does not find those directions, and
its low-rank adaptation does, at a cost that dominates the fit (measured at 10^5 rows, 4 x (500 +
500): 20.7 leapfrog steps per draw, 6.1 ms per gradient and core against 3.8 ms for the gradient
alone, 254-269 s).

So this module finds the mode of the unconstrained log density (L-BFGS on the compiled model's own
log density and gradient, no second compile) and its curvature there (finite differences of the
gradient), and hands the mean ``m`` and the Cholesky factor ``L`` of the inverse curvature to the
warm-start map of :mod:`bayes_scaling.pymc_model._warm`: the sampler works on ``z`` with
``x = m + L z``. The map is affine with a constant Jacobian, so the posterior is exactly the same;
NUTS and the diagnostics judge it like any other. Measured on the same 10^5 rows (diagonal adaptation
in ``z``, target_accept 0.8 then, 4 x 500 draws): 8.8-10.4 leapfrog steps per draw (7.0 at
:data:`TARGET_ACCEPT_LARGE`); after 200 tuning steps max R-hat 1.008 once and 1.012 once (alpha_N and an
offset: the chains had not agreed yet), after 400 tuning steps 1.005 (min ESS_bulk 2,401), hence
:data:`LAPLACE_TUNE`. The mode and curvature take about 2 s at 10^5 rows.

The offsets never meet in the log density (each is in its own run's rows, and the prior ties each
only to ``run_sd``), so their block of the curvature is diagonal: one pair of gradients perturbs
all of them at once, and the other parameters take a pair each. About 20 gradients, not 2n.

Used by default (``SamplerSettings.start="auto"``) for models with centred run offsets and more
than :data:`bayes_scaling.pymc_model._warm.SHORT_MAX` parameters; anywhere nutpie runs with the
disk compile cache with ``start="laplace"``. When the mode or a positive curvature is not found,
the fit tunes as before and says why.
"""

from __future__ import annotations

import ctypes

import numpy as np

from ..core.errors import SamplerStartError
from . import _warm

__all__ = ["LAPLACE_TUNE", "TARGET_ACCEPT", "TARGET_ACCEPT_LARGE", "LOWER_ACCEPT_MIN_DIM", "target_accept", "STARTS",
           "wanted", "log_density", "mode", "curvature", "start"]

STARTS = ("auto", "laplace", "tune")
#: Tuning steps after a Laplace start (its coordinates are about standard Normal already; 200 were
#: not always enough at 10^5 rows, see the module's docstring).
LAPLACE_TUNE = 400
#: NUTS' target acceptance after a Laplace start: NUTS' usual 0.8 (the posterior is about iid Normal there;
#: the 0.9 of a cold fit is for the law's curved posterior in its own coordinates). Divergences flag the fit.
TARGET_ACCEPT = 0.8
#: ... and from :data:`LOWER_ACCEPT_MIN_DIM` parameters on. On an iid Normal, NUTS' trajectories come in
#: lengths 7 and 15; at 207 parameters (200 runs) a target of 0.8 puts the step size (0.45) just below the
#: length at which 7 steps reach the U-turn, so 31% of draws take 15; at 0.75 (step 0.50) all take 7, at
#: the same ESS (``benchmarks/bench_accept.py``). On the 10^5-row Student-t fit, seeds 1-8: 7.0-7.15 leapfrog
#: steps per draw against 9.0-10.3 (sampling 38 s against 47 on a quiet run), one seed in 8 above R-hat
#: 1.01 at either target, 0 divergences (0.7: no fewer steps, and a law parameter's R-hat 1.015 once in 4).
#: Up to 107 parameters every draw takes 7 steps at either target, so there is nothing to gain, and at 37
#: (30 runs, 8 seeds) 0.75 had a divergence once: 0.8 stays.
TARGET_ACCEPT_LARGE = 0.75
LOWER_ACCEPT_MIN_DIM = 150


def target_accept(n_dim: int) -> float:
    """NUTS' target acceptance after a Laplace start of a model with ``n_dim`` parameters."""
    return TARGET_ACCEPT_LARGE if n_dim >= LOWER_ACCEPT_MIN_DIM else TARGET_ACCEPT


DIAGONAL_BLOCK = "run_effect"  # the free variable whose coordinates never meet in the log density


def wanted(start: str, compiled, structure) -> bool:
    """Whether to start from the Laplace approximation: always for ``"laplace"``; for ``"auto"``,
    with centred run offsets and more than ``_warm.SHORT_MAX`` parameters."""
    if start == "laplace":
        return True
    centred = structure is not None and getattr(structure, "run_centered", False)
    return start == "auto" and centred and compiled.n_dim > _warm.SHORT_MAX


#: Newton steps after L-BFGS (each: one gradient, one step, the curvature again), and when to stop:
#: a step shorter than this many posterior sd.
NEWTON_STEPS = 4
NEWTON_TOLERANCE = 0.01
#: L-BFGS runs for the mode at most (the first, then restarts from its result), and the gain in nats
#: below which a restart is not repeated.
MODE_RUNS = 4
RESTART_GAIN = 1.0


def log_density(compiled):
    """``x -> (log density, gradient)`` of ``compiled`` (a nutpie model) at unconstrained ``x``, through
    its own compiled C callback."""
    fn, n = compiled.compiled_logp_func.ctypes, compiled.n_dim
    user_data = compiled.user_data
    dbl = ctypes.POINTER(ctypes.c_double)

    def f(x):
        x = np.ascontiguousarray(x, dtype=np.float64)
        grad, logp = np.empty(n), np.empty(1)
        rc = fn(n, x.ctypes.data_as(dbl), grad.ctypes.data_as(dbl), logp.ctypes.data_as(dbl),
                ctypes.c_void_p(user_data.ctypes.data))
        if rc != 0:
            return -np.inf, np.full(n, np.nan)
        return float(logp[0]), grad

    return f


def mode(f, x0: np.ndarray) -> np.ndarray:
    """The mode of the log density ``f`` (as :func:`log_density` returns), by L-BFGS from ``x0``, restarted
    from its own result while a restart still gains more than :data:`RESTART_GAIN` nats.

    L-BFGS stops when a step improves the value by a relative 2e-9 or less. From a poor start it can stop
    so on a slope far from the mode: at 10^5 rows, seed 8 of ``bench_accept.py``'s table stopped after 36
    iterations 190,000 nats below the mode (largest gradient 3e5), and the fit fell back to a full tuning
    (240 s instead of 45). A restart drops L-BFGS's stale curvature pairs and goes on."""
    from scipy.optimize import minimize

    def negative(x):
        logp, grad = f(x)
        if not np.isfinite(logp):
            return np.inf, np.zeros_like(x)
        return -logp, -grad

    x, value = np.asarray(x0, dtype=float), np.inf
    for _ in range(MODE_RUNS):
        result = minimize(negative, x, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "maxfun": 10000})
        if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
            raise SamplerStartError(f"no mode found ({result.message})")
        gain, x, value = value - result.fun, result.x, result.fun
        if gain <= RESTART_GAIN:
            break
    return x


def curvature(f, x: np.ndarray, diagonal: slice | None = None, step: float = 1e-5) -> np.ndarray:
    """The negative Hessian of ``f`` at ``x`` by central differences of its gradient; the coordinates in
    ``diagonal`` (which never meet in ``f``: their block is diagonal) share one perturbation."""
    n = x.shape[0]
    h = step * np.maximum(1.0, np.abs(x))
    shared = np.zeros(n, dtype=bool)
    if diagonal is not None:
        shared[diagonal] = True
    H = np.zeros((n, n))
    groups = [np.flatnonzero(shared)] if shared.any() else []
    groups += [np.array([i]) for i in np.flatnonzero(~shared)]
    for idx in groups:
        e = np.zeros(n)
        e[idx] = h[idx]
        diff = (f(x + e)[1] - f(x - e)[1]) / 2.0
        if len(idx) == 1:
            H[:, idx[0]] = -diff / h[idx[0]]
        else:  # the shared block: its own rows give its diagonal; the others' columns come from them
            H[idx, idx] = -diff[idx] / h[idx]
    free, block = np.flatnonzero(~shared), np.flatnonzero(shared)
    H[np.ix_(free, block)] = H[np.ix_(block, free)].T  # the free columns gave these rows
    H[np.ix_(free, free)] = 0.5 * (H[np.ix_(free, free)] + H[np.ix_(free, free)].T)
    return H


def newton(f, x: np.ndarray, diagonal: slice | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(mode, negative Hessian there)``: L-BFGS's point polished by Newton steps.

    L-BFGS stops when the log density improves by a relative 2e-9 per step; at 10^5 rows that is about
    1e-3 nats, which on the flat ridge of run offsets against the law's level left the point about 2
    posterior sd from the mode (measured at 200 x 500 checkpoints; chains then spent their tuning on
    the way back and one run of three ended with R-hat 1.012). The log density is close to quadratic
    there, so Newton steps with the finite-difference curvature reach the mode in one or two steps."""
    H = curvature(f, x, diagonal)
    logp = f(x)[0]
    for _ in range(NEWTON_STEPS):
        try:
            step = np.linalg.solve(H, f(x)[1])
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.sqrt(max(step @ H @ step, 0.0)) < NEWTON_TOLERANCE:
            break  # the length in posterior sd (Mahalanobis): at the mode
        new = f(x + step)[0]
        if not new > logp:  # not a better point: keep L-BFGS's
            break
        x, logp = x + step, new
        H = curvature(f, x, diagonal)
    if not np.all(np.isfinite(H)):
        raise SamplerStartError("the curvature at the mode is not finite")
    return x, H


def start(compiled, x0: np.ndarray) -> _warm.WarmStart:
    """The Laplace start of ``compiled`` (a nutpie model with the warm-start map, on its data) from the
    unconstrained point ``x0``; raises :class:`SamplerStartError`."""
    f = log_density(compiled)
    lay, block = _warm.layout(compiled), _block(compiled, DIAGONAL_BLOCK)
    m, H = newton(f, mode(f, x0), block)
    try:
        chol = np.linalg.cholesky(np.linalg.inv(H))  # fails unless H is positive definite
    except np.linalg.LinAlgError:
        raise SamplerStartError("the curvature at the mode is not positive definite") from None
    return _warm.WarmStart(mean=m, chol=chol, layout=lay, source="laplace")


def _block(compiled, name: str) -> slice | None:
    names, slices, _ = compiled.shape_info
    for n, sl in zip(names, slices):
        if n == name:
            return sl
    return None
