"""The PyMC-model layer: a law spec and validated runs become a PyMC model, sampled by NUTS.

- :mod:`~bayes_scaling.pymc_model.structure`: groups (partial pooling) and run effects;
- :mod:`~bayes_scaling.pymc_model.build`: the model (likelihood on log response, reference-scale
  parameterisation, run offsets integrated out for Normal noise);
- :mod:`~bayes_scaling.pymc_model.discrepancy`: the Gaussian-process model discrepancy;
- :mod:`~bayes_scaling.pymc_model.sampling`: nutpie (or PyMC's NUTS), with an in-process cache of
  compiled models and a private disk compile cache (``_compile_cache``).

(The top-level ``models/`` folder holds the law specs, read by :mod:`bayes_scaling.law.spec`.)
"""
