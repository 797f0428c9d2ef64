"""The decisions layer: what to do with a posterior, evaluated over every draw at once.

- :mod:`~bayes_scaling.decisions.allocation`: compute-optimal N and D for budgets C;
- :mod:`~bayes_scaling.decisions.budget`: P(loss below a target), the compute for a target,
  comparing training plans;
- :mod:`~bayes_scaling.decisions.cost`: what a plan costs (``k·N·D``, Kaplan's attention term, a
  fitted power law, lifetime inference) and budgets in GPU-hours or money;
- :mod:`~bayes_scaling.decisions.lifetime`: the least training-plus-inference compute for a target
  loss (Sardana et al. 2023);
- :mod:`~bayes_scaling.decisions.recommendation`: the plan to pick at a budget (the Bayes action), its
  flat range and what other plans cost;
- :mod:`~bayes_scaling.decisions.groups`: which group (model family, dataset) scales better;
- :mod:`~bayes_scaling.decisions.frontier`: Kaplan et al. 2020's compute-efficient frontier and
  overfitting rule (``bs.kaplan``);
- :mod:`~bayes_scaling.decisions.optimum`: the per-draw optimum they share.

Each function takes the fit record (:class:`~bayes_scaling.posterior.record.FitRecord`, which a
:class:`bayes_scaling.Fit` is); ``Fit`` methods of the same names call them. Results report
``*_median``, ``*_lower`` and ``*_upper`` (:mod:`bayes_scaling.core.intervals`).
"""

from ..core.errors import DecisionWarning
from ..core.intervals import interval_columns
from .allocation import allocate, allocate_draws
from .budget import compare_plans, compute_for_target, prob_below
from .cost import CostModel, Hardware, ShapeRule
from .lifetime import lifetime_plan
from .recommendation import recommend

__all__ = ["DecisionWarning", "allocate", "allocate_draws", "prob_below", "compute_for_target",
           "compare_plans", "recommend", "lifetime_plan", "CostModel", "Hardware", "ShapeRule", "interval_columns"]
