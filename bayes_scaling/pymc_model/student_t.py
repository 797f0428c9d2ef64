"""Student-t noise whose log density costs one ``log`` per row (the robust likelihood of every fit).

PyMC's ``StudentT`` computes ``log1p(r^2 / (nu sigma^2))`` per row. On the machines this package is
benchmarked on, the scalar ``log1p`` that numba calls costs about 13 ns against 4.5 ns for ``log``,
and a 10^5-row checkpoint fit evaluates the density at every leapfrog step. Here the same density is
written as ``-(nu + 1) / 2 * (log(nu sigma^2 + r^2) - log(nu sigma^2))``: one ``log`` per row, the
rest on scalars (``benchmarks/README.md``, session 10: 2.6 -> 2.3 ms per gradient at 90,000 rows).

It is the same function (tested against ``pymc.logp`` of ``StudentT`` to 1e-9 relative, value and
gradient). ``log1p`` keeps relative accuracy when ``r^2`` is far below ``nu sigma^2``; a log density
summed over rows needs absolute accuracy, and the difference of two logs keeps that (about 1e-16 of
``(nu + 1) / 2 * log(nu sigma^2)`` per row; 4e-13 of the whole at the 10^5-row benchmark's points). The
scales are positive (the law's noise priors must be: :mod:`bayes_scaling.law.spec`). Draws (prior
predictive, SBC's simulated data) come from ``StudentT``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["student_t", "student_t_logp"]


def student_t_logp(value, nu, mu, sigma):
    """The Student-t log density per row, with one ``log`` per row (a pytensor graph)."""
    import pytensor.tensor as pt

    r = value - mu
    scale2 = nu * sigma * sigma
    const = (pt.gammaln((nu + 1.0) / 2.0) - pt.gammaln(nu / 2.0) - 0.5 * np.log(np.pi)
             - 0.5 * pt.log(scale2) + (nu + 1.0) / 2.0 * pt.log(scale2))
    return const - (nu + 1.0) / 2.0 * pt.log(scale2 + r * r)


def _student_t_dist(nu, mu, sigma, size):
    import pymc as pm

    return pm.StudentT.dist(nu=nu, mu=mu, sigma=sigma, size=size)


def student_t(name: str, nu, mu, sigma, observed, dims: str):
    """An observed Student-t variable with :func:`student_t_logp` as its density."""
    import pymc as pm

    return pm.CustomDist(name, nu, mu, sigma, dist=_student_t_dist, logp=student_t_logp,
                         observed=observed, dims=dims)
