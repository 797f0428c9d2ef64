"""The law layer: what a scaling law is, with no data and no sampler.

- :mod:`~bayes_scaling.law.spec`: law specifications (one TOML per law in ``models/``), loading,
  priors and presets;
- :mod:`~bayes_scaling.law.formula`: the whitelisted formula, parsed once, evaluated in log space
  by pytensor (the model) and numpy (everything else);
- :mod:`~bayes_scaling.law.priors`: the whitelist of prior distributions;
- :mod:`~bayes_scaling.law.evaluate`: the law in numpy, over draws and inputs at once;
- :mod:`~bayes_scaling.law.forms`: known forms (Chinchilla) recognised in a parsed law.
"""
