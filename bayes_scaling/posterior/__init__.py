"""The posterior layer: sampling a law's posterior, and what can be read off it directly.

- :mod:`~bayes_scaling.posterior.inference`: :func:`~bayes_scaling.posterior.inference.fit` (and
  the ``refit`` seam of every many-fit workload);
- :mod:`~bayes_scaling.posterior.record`: the fit record every higher layer takes;
- :mod:`~bayes_scaling.posterior.predict`: predictions, log-likelihood, residuals over all draws;
- :mod:`~bayes_scaling.posterior.diagnostics`: sampler diagnostics, model checks, summaries;
- :mod:`~bayes_scaling.posterior.io`: the fit file (NetCDF: posterior, runs, spec, settings).
"""
