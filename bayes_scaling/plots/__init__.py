"""Plots of a fitted scaling law: each a plain function of a :class:`~bayes_scaling.Fit` that
returns a :class:`matplotlib.figure.Figure` (never shown; in a notebook it displays once, in a
script ``fig.savefig("fit.png")``).

Every curve and band is evaluated over all posterior draws at once through the ``Fit`` API
(``predict_draws``, ``allocate_draws``, ``compare_groups``, ...); bands are equal-tailed
intervals (50% and 90% by default); N, D and C are on log axes; the region beyond the
observed data is shaded, and median curves are dashed there.

- :func:`plot_fit`: loss against N (tokens-per-parameter slices) and against C (the
  compute-optimal loss), extrapolated to budgets; one panel for laws without N and D.
- :func:`plot_isoflop`: loss against N at fixed compute, with the posterior of N_opt.
- :func:`plot_frontier`: N_opt(C) and D_opt(C), with Hoffmann 2022 and Kaplan 2020.
- :func:`plot_posterior`, :func:`plot_prior_posterior`: arviz-plots' pair plot and prior
  against posterior.
- :func:`plot_ppc`: posterior predictive check on the response's scale: each run against its
  predictive interval, and the distribution over the runs against replicated data sets.
- :func:`plot_residuals`: residuals of log(loss) against N, D, C (and step).
- :func:`plot_families`: per-group parameters and P(group A beats group B).
"""

from .families import plot_families
from .fit_curves import plot_fit
from .frontier import plot_frontier
from .isoflop import plot_isoflop
from .posterior import plot_posterior, plot_prior_posterior
from .predictive import plot_ppc
from .residuals import plot_residuals

__all__ = ["plot_fit", "plot_isoflop", "plot_frontier", "plot_posterior", "plot_prior_posterior", "plot_ppc",
           "plot_residuals", "plot_families"]
