"""The checks layer: is the law right, and are its intervals honest? Each check refits the law.

- :mod:`~bayes_scaling.checks.compare`: laws fitted to the same runs, by PSIS-LOO and by
  leave-largest-out prediction (``bs.compare``);
- :mod:`~bayes_scaling.checks.backtest`: fit the smaller runs, score the intervals on the larger
  ones (``bs.backtest``), beside the baseline of :mod:`~bayes_scaling.checks.baseline` (Huber +
  bootstrap, as Hoffmann et al. 2022 and Epoch AI 2024);
- :mod:`~bayes_scaling.checks.sbc`: simulation-based calibration (``bs.sbc``);
- :mod:`~bayes_scaling.checks.isoflop`: each iso-FLOP budget's own optimum (Approach 2) against the
  law's allocation (``bs.isoflop``, ``fit.isoflop()``).

Every refit goes through one seam, :func:`bayes_scaling.posterior.inference.refit`.
"""
