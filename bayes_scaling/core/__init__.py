"""The base layer: what every other layer shares and nothing depends on.

- :mod:`~bayes_scaling.core.errors`: the package's errors and warnings, under two base classes;
- :mod:`~bayes_scaling.core.intervals`: ``*_median/_lower/_upper`` columns, the default
  probability, the distance beyond the data;
- :mod:`~bayes_scaling.core.formatting`: how numbers are written;
- :mod:`~bayes_scaling.core.resources`: where the shipped ``models/`` and ``datasets/`` are.
"""

__version__ = "0.1.0"
