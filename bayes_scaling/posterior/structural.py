"""The structural term: what the law's form gets wrong, learned from its own residuals (the default).

A scaling law's form is off by a percent or two on real runs, and more beyond them; a posterior that
trusts the form is confident and wrong a decade out. Every default fit therefore carries a model
discrepancy ``delta`` (Kennedy and O'Hagan 2001) fitted *modularly* (Liu, Bayarri and Berger 2009,
"Modularization in Bayesian analysis, with emphasis on analysis of computer models"): the law's
posterior is sampled first and left as it is (so its parameters keep their meaning and SBC still
tests them), then a Gaussian process is fitted to the residuals of log(response) at the posterior
median law::

    log y_i - median_s log law_s(x_i) = delta(z_i) + eps_i,
    delta ~ GP(0, eta^2 Matern52(z, z'; ls)),  eps_i ~ Normal(0, noise^2),

with MAP hyperparameters under weak priors (``ls ~ LogNormal(log 1.5 decades, 0.35)`` per coordinate,
at least 0.5 decade,
``eta ~ HalfNormal(0.02)``, ``noise ~ HalfNormal(0.02)``). The coordinates ``z`` are the ones
budget questions move along: ``log10 C`` and ``log10 D/N`` (tokens per parameter) for laws of N
and D (C = k·N·D), then log10 of any other input; log10 of the inputs for other laws.

``delta`` is represented by ``n_features`` random Fourier features of the Matern kernel (Rahimi and
Recht 2007) with a Gaussian posterior over their weights, so that every posterior draw of the law
gets its own draw of ``delta`` as a *function*: evaluable anywhere (predictions, plots, and the
optimisation inside every decision), with a variance that returns to ``eta^2`` away from the runs
instead of vanishing. Inside the data the term follows systematic misfit (e.g. a residual trend in
tokens per parameter); beyond it, it widens. On true-law data the residuals are white and ``eta``
goes to about zero, so it costs almost no width there. ``bs.fit(..., discrepancy=None)`` trusts the
law's form instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Structural", "fit_structural", "coordinates", "log_coordinates", "LS_MEDIAN", "LS_SIGMA", "ETA_SCALE",
           "NOISE_SCALE", "N_FEATURES", "MAX_ROWS", "MAP_ROWS"]

LS_MEDIAN, LS_SIGMA = 1.5, 0.35  # length scale prior: LogNormal(log 1.5 decades, 0.35) per coordinate
LS_MIN = 0.5  # decades: shorter structure is not the law's form (it is runs that misfit, or noise)
ETA_SCALE = 0.02  # amplitude prior: HalfNormal(0.02) (log response)
NOISE_SCALE = 0.02  # white residual prior: HalfNormal(0.02)
N_FEATURES = 256  # random Fourier features representing delta
HUBER = 3.0  # residuals beyond this many white-residual scales are down-weighted
ROBUST_PASSES = 2
MAX_ROWS = 3000  # rows kept for the weight posterior (evenly thinned beyond): n x 256 features, linear in n
#: Rows (evenly thinned from those) for the hyperparameters' MAP: each evaluation of the marginal likelihood
#: is an n x n Cholesky factor and inverse, ~90 of them per fit. At 3000 rows that took 300 s (every
#: checkpoint table above 3000 rows paid it); at 500, about a second. Four numbers need no more rows.
MAP_ROWS = 500


def coordinates(columns: tuple[str, ...], flops_per_token: float, inputs: Mapping[str, Any]) -> np.ndarray:
    """The GP's coordinates of input points: ``(n, d)`` (see the module docstring)."""
    logs = {c: np.log(np.asarray(inputs[c], dtype=float)) for c in columns}
    return log_coordinates(columns, flops_per_token, logs)


def log_coordinates(columns: tuple[str, ...], flops_per_token: float, logs: Mapping[str, Any]) -> np.ndarray:
    """:func:`coordinates` from the natural logs of the inputs (arrays that broadcast): ``(..., d)``."""
    ln10 = np.log(10.0)
    if "N" in columns and "D" in columns:
        log_n, log_d = logs["N"], logs["D"]
        first = [(np.log(flops_per_token) + log_n + log_d) / ln10, (log_d - log_n) / ln10]
        parts = first + [logs[c] / ln10 for c in columns if c not in ("N", "D")]
    else:
        parts = [logs[c] / ln10 for c in columns]
    return np.stack(np.broadcast_arrays(*parts), axis=-1)


def _matern52(x1: np.ndarray, x2: np.ndarray, ls: np.ndarray, eta: float) -> np.ndarray:
    dist = np.sqrt((((x1[:, None, :] - x2[None, :, :]) / ls) ** 2).sum(-1))
    s5 = np.sqrt(5.0) * dist
    return eta**2 * (1.0 + s5 + s5**2 / 3.0) * np.exp(-s5)


def _neg_log_posterior(theta: np.ndarray, x: np.ndarray, r: np.ndarray, w: np.ndarray, pair=None):
    """-log p(r | ls, eta, noise) - log prior and its gradient, in log parameters;
    row i's white residual has variance ``noise^2 / w_i`` (robustness weights). ``pair``: the squared
    differences of ``x`` per coordinate, ``(d, n, n)`` (computed once per MAP by its caller). The n x n
    work is a few passes, mostly in place (at 500 rows about half the time of one temporary per step)."""
    from scipy import linalg

    d, n = x.shape[1], len(r)
    pair = _pairs(x) if pair is None else pair
    ls, eta, noise = np.exp(theta[:d]), np.exp(theta[d]), np.exp(theta[d + 1])
    s = (5.0 / ls**2) @ pair.reshape(d, -1)  # 5 sum_k diff_k^2 / ls_k^2, flat
    np.sqrt(s, out=s)
    decay = np.exp(-s)
    kf = (s * (1.0 / 3.0) + 1.0) * s  # s + s^2/3, then (1 + s + s^2/3) eta^2 decay
    kf += 1.0
    kf *= decay
    kf *= eta**2
    k = kf.reshape(n, n).copy()
    k[np.diag_indices(n)] += noise**2 / w + 1e-12
    try:
        chol = linalg.cho_factor(k, lower=True, overwrite_a=True)
    except linalg.LinAlgError:
        return 1e12, np.zeros_like(theta)
    alpha = linalg.cho_solve(chol, r)
    value = 0.5 * r @ alpha + np.log(np.diag(chol[0])).sum()
    inv, info = linalg.lapack.dpotri(chol[0], lower=1, overwrite_c=True)  # K^-1 from its factor (lower triangle)
    if info:
        return 1e12, np.zeros_like(theta)
    big_w = np.tril(inv)
    big_w += np.tril(inv, -1).T
    big_w -= np.outer(alpha, alpha)  # K^-1 - alpha alpha'
    flat_w = big_w.reshape(-1)
    grad = np.empty_like(theta)
    grad[d] = flat_w @ kf  # dK/dlog eta = 2 kf, times 1/2
    s += 1.0  # dK/dlog ls_k = eta^2 (5/3) (1 + s) decay diff_k^2 / ls_k^2
    s *= decay
    s *= flat_w
    grad[:d] = (eta**2 * (5.0 / 6.0) / ls**2) * (pair.reshape(d, -1) @ s)
    grad[d + 1] = np.diag(big_w) @ (noise**2 / w)
    # priors: log ls ~ Normal(log LS_MEDIAN, LS_SIGMA); eta, noise ~ HalfNormal (densities of log values)
    z = (theta[:d] - np.log(LS_MEDIAN)) / LS_SIGMA
    # the mode of the amplitudes' densities on their natural scale (no Jacobian): with white residuals
    # eta goes to about zero instead of to the prior's scale
    value += 0.5 * np.sum(z**2) + 0.5 * (eta / ETA_SCALE) ** 2 + 0.5 * (noise / NOISE_SCALE) ** 2
    grad[:d] += z / LS_SIGMA
    grad[d] += (eta / ETA_SCALE) ** 2
    grad[d + 1] += (noise / NOISE_SCALE) ** 2
    return float(value), grad


def _pairs(x: np.ndarray) -> np.ndarray:
    """Squared differences of the rows of ``x`` per coordinate: ``(d, n, n)``."""
    return np.stack([(x[:, None, k] - x[None, :, k]) ** 2 for k in range(x.shape[1])])


def _map_hyperparameters(x: np.ndarray, r: np.ndarray, w: np.ndarray, noise0: float, start=None):
    from scipy import optimize

    d = x.shape[1]
    starts = [start] if start is not None else [
        np.r_[np.full(d, np.log(LS_MEDIAN) + dl), np.log(eta0), np.log(max(noise0, 1e-4))]
        for dl in (0.0, 1.0) for eta0 in (0.005, 0.02)]
    bounds = [(np.log(LS_MIN), 4.0)] * d + [(-12.0, 0.0), (-12.0, 0.0)]
    pair = _pairs(x)
    best = min((optimize.minimize(_neg_log_posterior, x0, args=(x, r, w, pair), jac=True, method="L-BFGS-B",
                                  bounds=bounds) for x0 in starts), key=lambda res: res.fun)
    return best.x


def _robust_weights(x, r, w, ls, eta, noise) -> np.ndarray:
    """Huber weights ``min(1, HUBER / |e_i|)`` of the standardized residuals e of the GP's own fit."""
    k = _matern52(x, x, ls, eta)
    mean = k @ np.linalg.solve(k + np.diag(noise**2 / w + 1e-12), r)
    e = np.abs(r - mean) / noise
    return np.minimum(1.0, HUBER / np.maximum(e, 1e-12))


def _robust_map(x: np.ndarray, r: np.ndarray, noise0: float, start: np.ndarray | None) -> np.ndarray:
    """The hyperparameters' MAP (log values), with Huber IRLS passes so that outlying runs do not pass
    for structure. On one BLAS thread: the matrices are at most ``MAP_ROWS`` square, where a second
    thread costs more in hand-offs than it gains (Epoch's 240 rows: 0.2-0.4 s -> 0.14-0.17 s per warm
    refit's term on 2 cores; one solve took 80 ms instead of 0.7 ms)."""
    from threadpoolctl import threadpool_limits

    d = x.shape[1]
    w = np.ones(len(r))
    with threadpool_limits(limits=1, user_api="blas"):
        theta = _map_hyperparameters(x, r, w, noise0, start=start)
        for _ in range(ROBUST_PASSES):
            w = _robust_weights(x, r, w, np.exp(theta[:d]), np.exp(theta[d]), np.exp(theta[d + 1]))
            theta = _map_hyperparameters(x, r, w, noise0, start=theta)
    return theta


@dataclass(frozen=True, eq=False)
class Structural:
    """The fitted structural term of a fit: its data, hyperparameters and random features.

    Attributes
    ----------
    columns : tuple of str
        The law's input columns; ``flops_per_token`` makes C = k·N·D.
    x, resid : numpy.ndarray
        Coordinates ``(n, d)`` of the fitted runs and their residuals of log(response).
    ls, eta, noise : tuple of float, float, float
        MAP length scales (per coordinate, log10 units), amplitude and white residual scale.
    seed, n_features : int
        The random features' seed and number.
    """

    columns: tuple[str, ...]
    flops_per_token: float
    x: np.ndarray
    resid: np.ndarray
    ls: tuple[float, ...]
    eta: float
    noise: float
    seed: int = 0
    n_features: int = N_FEATURES
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict:
        return {"columns": list(self.columns), "flops_per_token": self.flops_per_token, "x": self.x.tolist(),
                "resid": self.resid.tolist(), "ls": list(self.ls), "eta": self.eta, "noise": self.noise,
                "seed": self.seed, "n_features": self.n_features}

    @classmethod
    def from_dict(cls, d: Mapping) -> Structural:
        return cls(columns=tuple(d["columns"]), flops_per_token=float(d["flops_per_token"]),
                   x=np.asarray(d["x"], dtype=float), resid=np.asarray(d["resid"], dtype=float),
                   ls=tuple(map(float, d["ls"])), eta=float(d["eta"]), noise=float(d["noise"]),
                   seed=int(d["seed"]), n_features=int(d["n_features"]))

    def summary(self) -> str:
        names = ["log10 C", "log10 D/N"] if {"N", "D"} <= set(self.columns) else [f"log10 {c}" for c in self.columns]
        names += [f"log10 {c}" for c in self.columns if c not in ("N", "D")] if len(names) == 2 else []
        ls = ", ".join(f"{n} {v:.2g}" for n, v in zip(names, self.ls))
        return (f"structural term (GP on the law's residuals): amplitude {self.eta:.2%} in log response, "
                f"length scales {ls} decades, white residual {self.noise:.2%}")

    def _features(self):
        """Frequencies ``(J, d)`` (Matern 5/2 spectral density, scaled by ls) and phases ``(J,)``."""
        if "features" not in self._cache:
            rng = np.random.default_rng([self.seed, 7])
            j, d = self.n_features, self.x.shape[1]
            g = rng.chisquare(5.0, size=(j, 1))  # Matern nu = 5/2: a multivariate t with 5 degrees of freedom
            omega = rng.standard_normal((j, d)) / np.sqrt(g / 5.0) / np.asarray(self.ls)
            self._cache["features"] = (omega, rng.uniform(0.0, 2.0 * np.pi, j))
        return self._cache["features"]

    def _phi(self, x: np.ndarray) -> np.ndarray:
        omega, phase = self._features()
        return np.sqrt(2.0 / self.n_features) * np.cos(x @ omega.T + phase)

    def _weights_posterior(self):
        """Mean and Cholesky factor of the posterior precision of the feature weights (``eta * w``)."""
        if "posterior" not in self._cache:
            phi = self.eta * self._phi(self.x)  # (n, J)
            precision = phi.T @ phi / self.noise**2 + np.eye(self.n_features)
            chol = np.linalg.cholesky(precision)
            mean = np.linalg.solve(chol.T, np.linalg.solve(chol, phi.T @ self.resid / self.noise**2))
            self._cache["posterior"] = (mean, chol)
        return self._cache["posterior"]

    def weight_draws(self, n: int, seed: int) -> np.ndarray:
        """``n`` draws of the feature weights ``(n, J)``, one function of ``delta`` each."""
        mean, chol = self._weights_posterior()
        z = np.random.default_rng([seed, 11]).standard_normal((n, self.n_features))
        return mean + np.linalg.solve(chol.T, z.T).T

    def evaluate(self, weights: np.ndarray, x: np.ndarray) -> np.ndarray:
        """``delta`` of each weight draw at coordinates ``x``: weights ``(..., J)``, x ``(..., d)`` -> ``(...)``.

        Weights ``(S, 1, J)`` at points shared by every draw (x ``(1, G, d)`` or ``(G, d)``) take one
        matrix product, ``(S, G)``, instead of an ``(S, G, J)`` temporary."""
        phi = self._phi(x)
        if weights.ndim == 3 and weights.shape[1] == 1 and (phi.ndim == 2 or (phi.ndim == 3 and phi.shape[0] == 1)):
            return self.eta * (weights[:, 0, :] @ phi.reshape(-1, phi.shape[-1]).T)
        return self.eta * (phi * weights).sum(axis=-1)

    def draws(self, inputs: Mapping[str, Any], n: int, seed: int) -> np.ndarray:
        """``delta`` at input points for ``n`` draws: ``(n, points)``."""
        x = coordinates(self.columns, self.flops_per_token, inputs)
        return self.eta * self.weight_draws(n, seed) @ self._phi(x).T


def _thinned(n: int, most: int) -> np.ndarray:
    """Indices of at most ``most`` of ``n`` rows, evenly spaced (all of them when there are fewer)."""
    return np.arange(n) if n <= most else np.linspace(0, n - 1, most).round().astype(int)


def fit_structural(columns: tuple[str, ...], flops_per_token: float, inputs: Mapping[str, np.ndarray],
                   resid: np.ndarray, noise0: float, seed: int, start: Structural | None = None) -> Structural:
    """The structural term of residuals ``resid`` of log response at the runs' ``inputs`` (MAP hyperparameters).

    ``start``: a previous term on the same inputs (a warm refit): its hyperparameters are the MAP's one
    start, instead of a grid of four."""
    x = coordinates(columns, flops_per_token, inputs)
    keep = _thinned(len(resid), MAX_ROWS)
    x, resid = x[keep], np.asarray(resid, dtype=float)[keep]
    sub = _thinned(len(resid), MAP_ROWS)
    xs, rs = x[sub], resid[sub]
    d = x.shape[1]
    warm = None
    if start is not None and len(start.ls) == d and tuple(start.columns) == tuple(columns):
        warm = np.log(np.r_[start.ls, start.eta, start.noise])
    theta = _robust_map(xs, rs, noise0, warm)
    ls, eta, noise = np.exp(theta[:d]), float(np.exp(theta[d])), float(np.exp(theta[d + 1]))
    return Structural(columns=tuple(columns), flops_per_token=float(flops_per_token), x=x, resid=resid,
                      ls=tuple(map(float, ls)), eta=eta, noise=noise, seed=int(seed))
