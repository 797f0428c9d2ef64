"""Student-t noise as a scale mixture of Normals: would data augmentation make the 10^5-row fit as cheap as Normal's?

    .venv/bin/python benchmarks/bench_mixture.py      # about 4 min on 2 cores

Issue 19 names "a scale-mixture representation" as one route to the Student-t checkpoint fit at 10^5
rows within the Normal fit's time. Student-t noise is Normal noise with a latent precision per row:
``y_i ~ Normal(mu_i, sigma / sqrt(lambda_i))``, ``lambda_i ~ Gamma(nu/2, nu/2)``. Given the lambdas the
noise is Normal, so the run offsets could be integrated out in closed form as in the Normal fit, and
each gradient would cost about what the Normal fit's does. The lambdas (one per row) cannot go to NUTS
(90,000 more parameters), so they would be drawn by Gibbs steps between NUTS steps:
``lambda_i | rest ~ Gamma((nu + 1)/2, (nu + r_i^2/sigma^2)/2)``, then ``sigma`` and ``nu`` given the
lambdas. The cost of that route is how slowly ``nu`` and ``sigma`` move when the 90,000 lambdas are held.

This benchmark measures exactly that, in the best case for the route: the law and the run offsets
are held at the truth (only ``sigma``, ``nu`` and the lambdas are unknown), 90,000 rows, the package's
priors on ``nu`` (Gamma(2, 0.1)) and a flat prior on log ``sigma``. It runs 4 chains of the Gibbs
sampler (``sigma`` and ``nu`` each drawn exactly from their conditionals, ``nu`` on a grid of 4,000
points in log ``nu``) and, on the same residuals, NUTS (nutpie) on the marginal Student-t density
that the package samples, 4 chains x (400 + 500) as in the checkpoint benchmark. ESS and R-hat by
arviz. Two data sets: heavy tails (nu = 4) and Normal noise (what the checkpoint benchmark draws).
Prints Markdown.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.special import gammaln

ROWS, CHAINS, SWEEPS, WARMUP = 90_000, 4, 1_000, 250
SIGMA = 0.01  # log-loss noise of about 1%
NU_STARTS = (2.0, 8.0, 40.0, 150.0)  # dispersed starts, one per chain
LOG_NU = np.linspace(np.log(0.3), np.log(2_000.0), 4_000)  # the grid of nu's conditional
NU = np.exp(LOG_NU)
# the parts of log p(nu | lambda) on the grid that do not depend on the lambdas: the Gamma density's
# normalizer per row, and the prior Gamma(2, 0.1) with the Jacobian of the grid in log nu
HALF_LOG_HALF = NU / 2 * np.log(NU / 2) - gammaln(NU / 2)
LOG_PRIOR = np.log(NU) - 0.1 * NU + LOG_NU


def residuals(nu: float | None, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(ROWS) if nu is None else rng.standard_t(nu, ROWS)
    return SIGMA * noise


def _nu_given_lambdas(lam: np.ndarray, rng: np.random.Generator) -> float:
    """An exact draw of nu | lambda (grid in log nu; prior Gamma(2, 0.1), its Jacobian included)."""
    half = NU / 2
    logp = lam.size * HALF_LOG_HALF + (half - 1) * np.log(lam).sum() - half * lam.sum() + LOG_PRIOR
    p = np.exp(logp - logp.max())
    return float(NU[rng.choice(NU.size, p=p / p.sum())])


def gibbs(r: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """4 chains of data-augmentation Gibbs: (nu draws, sigma draws) of shape (chains, SWEEPS), seconds."""
    nus, sigmas = np.empty((CHAINS, SWEEPS)), np.empty((CHAINS, SWEEPS))
    t0 = time.perf_counter()
    for c in range(CHAINS):
        rng = np.random.default_rng([seed, c])
        nu, sigma2 = NU_STARTS[c], float(np.var(r))
        for k in range(WARMUP + SWEEPS):
            lam = rng.gamma((nu + 1) / 2, 2 / (nu + r * r / sigma2))
            sigma2 = float(lam @ (r * r)) / 2 / rng.gamma(r.size / 2)
            nu = _nu_given_lambdas(lam, rng)
            if k >= WARMUP:
                nus[c, k - WARMUP], sigmas[c, k - WARMUP] = nu, np.sqrt(sigma2)
    return nus, sigmas, time.perf_counter() - t0


def nuts(r: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """NUTS on the marginal Student-t density (what the package samples), same priors, nutpie's own
    starting points; seconds, compile included."""
    import nutpie
    import pymc as pm

    with pm.Model() as model:
        log_sigma = pm.Flat("log_sigma")
        nu = pm.Gamma("nu", alpha=2.0, beta=0.1)
        pm.StudentT("y", nu=nu, mu=0.0, sigma=pm.math.exp(log_sigma), observed=r)
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    trace = nutpie.sample(compiled, chains=CHAINS, tune=400, draws=500, seed=seed, progress_bar=False)
    seconds = time.perf_counter() - t0
    post = trace.posterior
    return post["nu"].values, np.exp(post["log_sigma"].values), seconds


def _row(name: str, nus: np.ndarray, sigmas: np.ndarray, seconds: float) -> str:
    import arviz as az

    ess_nu, ess_sigma = (float(az.ess(x)) for x in (nus, sigmas))
    rhat = max(float(az.rhat(x)) for x in (nus, sigmas))
    draws = nus.size
    per_400 = seconds * 400 / ess_nu
    return (f"| {name} | {draws:,} | {np.median(nus):.3g} | {ess_nu:,.0f} ({ess_nu / draws:.3f} per draw) | "
            f"{ess_sigma:,.0f} | {rhat:.3f} | {seconds:.1f} | {per_400:,.1f} |")


def main() -> None:
    print(f"{ROWS:,} residuals, law and run offsets held at the truth (the best case for the mixture), "
          f"sigma = {SIGMA}. Gibbs: 4 chains from nu = {', '.join(f'{s:g}' for s in NU_STARTS)}, {WARMUP} "
          f"warm-up + {SWEEPS:,} sweeps each. NUTS: nutpie from its own starting points, 4 x (400 + 500); "
          "its seconds include compiling the model.\n")
    print("| noise | sampler | draws kept | median nu | ESS_bulk of nu | ESS_bulk of sigma | max R-hat "
          "| seconds | seconds per 400 ESS of nu |\n|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, nu, seed in (("Student-t, nu = 4", 4.0, 1), ("Normal", None, 2)):
        r = residuals(nu, seed)
        print(_row(f"{label} | Gibbs on the mixture", *gibbs(r, seed)))
        print(_row(f"{label} | NUTS, marginal (the package's)", *nuts(r, seed)))


if __name__ == "__main__":
    main()
