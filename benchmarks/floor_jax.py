"""The child of ``bench_floor.py --jax-python PATH``: the same two densities in JAX (XLA on the CPU, float64).

    PATH/python benchmarks/floor_jax.py GRID.npz    # needs only numpy, scipy and jax (not in the package)

JAX is not in the package's stack (and installing it beside scipy slows the package's import:
benchmarks/README.md, "jax installed"), so this runs in another Python that has it, on the table
``bench_floor.py`` writes: 200 runs x 450 steps as a grid (``log_n`` per run, ``log_s`` per step,
``y`` = log loss). Written as a grid there are no gathers or scatters: the vectorized best case.

1. Student-t, 200 run offsets sampled: what the package samples with ``likelihood="student_t"``.
2. Normal, run offsets integrated out in closed form: what ``likelihood="auto"`` samples here.

Both take a flat numpy vector and return (value, gradient) as numpy, as nutpie's JAX backend does.
The process is pinned to one core: in a fit each core runs its own chains, and XLA would otherwise
spread one call over both. Values are checked against scipy (Student-t) and the multivariate Normal
density (Normal). Prints a tab-separated line per function (name, min ms, median ms) and a last one
(jax's version, the two relative errors) for ``bench_floor.py`` to read.
"""

from __future__ import annotations

import os
import sys

import numpy as np
from bench_floor import interleaved  # stdlib and numpy only at import

THETA = np.array([0.077, np.log(6.5e13), 0.76, np.log(2.1e3), np.log(0.01), np.log(5.0), np.log(0.03)])


def densities(log_n, log_s, y):
    import jax
    import jax.numpy as jnp
    from jax.scipy.special import gammaln

    runs, steps = y.shape

    def mu(th):  # the law on each input's distinct values, log(a + b) with the largest term taken out
        la, lb = th[0] * (th[1] - log_n), th[2] * (th[3] - log_s)
        c = jax.lax.stop_gradient(jnp.maximum(la.max(), lb.max()))
        return jnp.log(jnp.exp(la - c)[:, None] + jnp.exp(lb - c)[None, :]) + c

    def student_t(x):
        th, effect = x[:7], x[7:]
        nu, scale2 = jnp.exp(th[5]), jnp.exp(th[5] + 2 * th[4])
        r = y - mu(th) - effect[:, None]
        half = (nu + 1) / 2
        lp = y.size * (gammaln(half) - gammaln(nu / 2) - 0.5 * jnp.log(jnp.pi * scale2))
        lp -= half * (jnp.log(scale2 + r * r).sum() - y.size * jnp.log(scale2))
        return lp - 0.5 * ((effect / jnp.exp(th[6])) ** 2).sum() - runs * th[6]

    def normal(x):
        s, t = jnp.exp(2 * x[4]), jnp.exp(2 * x[6])
        e = y - mu(x)
        s1, s2 = e.sum(1), (e * e).sum(1)
        return (-0.5 * y.size * jnp.log(2 * jnp.pi * s) - 0.5 * runs * jnp.log1p(steps * t / s)
                - 0.5 / s * (s2.sum() - t * (s1 * s1).sum() / (s + steps * t)))

    return mu, student_t, normal


def _checks(mu, student_t, normal, y, effect) -> tuple[float, float]:
    """Relative errors of the two values against scipy's densities."""
    from scipy import stats

    m, th = np.asarray(mu(THETA)), THETA
    exact_t = (stats.t.logpdf(y, np.exp(th[5]), loc=m + effect[:, None], scale=np.exp(th[4])).sum()
               + stats.norm.logpdf(effect, 0, np.exp(th[6])).sum() + 0.5 * effect.size * np.log(2 * np.pi))
    cov = np.exp(2 * th[4]) * np.eye(y.shape[1]) + np.exp(2 * th[6])
    exact_n = sum(stats.multivariate_normal.logpdf(row, np.zeros(y.shape[1]), cov) for row in y - m)
    value_t = float(student_t(np.concatenate([THETA, effect])))
    return abs(value_t - exact_t) / abs(exact_t), abs(float(normal(THETA)) - exact_n) / abs(exact_n)


def main(path: str) -> None:
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import jax

    jax.config.update("jax_enable_x64", True)
    data = np.load(path)
    y = data["y"]
    mu, student_t, normal = densities(data["log_n"], data["log_s"], y)
    effect = np.random.default_rng(0).normal(0.0, 0.03, y.shape[0])
    x_t = np.concatenate([THETA, effect])
    grads = {"5. Student-t, offsets sampled, in JAX (grid form, one core)": (student_t, x_t),
             "6. Normal, offsets integrated out, in JAX (grid form, one core)": (normal, THETA.copy())}
    calls = {}
    for name, (f, x) in grads.items():
        compiled = jax.jit(jax.value_and_grad(f))
        calls[name] = lambda c=compiled, x=x: (float((out := c(x))[0]), np.asarray(out[1]))
    times = interleaved(calls)  # the same rounds as the parent's rows
    for name, t in times.items():
        print(f"{name}\t{min(t):.4f}\t{np.median(t):.4f}")
    error_t, error_n = _checks(mu, student_t, normal, y, effect)
    print(f"jax {jax.__version__}\t{error_t:.1e}\t{error_n:.1e}")


if __name__ == "__main__":
    main(sys.argv[1])
