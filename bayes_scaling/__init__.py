"""bayes_scaling: Bayesian scaling-law fitting for training-budget decisions.

The data flow, one module per step::

    runs table --load_runs--> Runs --(law spec: laws)--> PyMC model (model)
      --NUTS (sampling)--> posterior DataTree (fit) --> predict / diagnostics / io
      --> decisions (allocate, prob_below, compute_for_target, compare_plans; optimum)
      --> kaplan (compute-efficient frontier, overfitting rule)

Quick start::

    import bayes_scaling as bs
    runs = bs.load_runs("runs.csv", N="params", D="tokens", loss="val_loss")
    fit = bs.fit(runs, law="chinchilla", seed=1)
    fit.summary()                          # posterior of E, A, B, alpha, beta
    fit.predict(N=70e9, D=1.4e12)          # loss_median, loss_lower, loss_upper
    fit.allocate(C=[1e23, 1e24])           # N_opt, D_opt, loss_opt with intervals
"""

from . import datasets, decisions, kaplan, synthetic
from .backtest import Backtest, backtest
from .compare import ComparisonWarning, compare
from .decisions import DecisionWarning
from .diagnostics import Diagnostics, ModelCheckWarning, SamplerWarning
from .discrepancy import DiscrepancyError
from .fit import Fit, fit, fit_separately
from .formula import FormulaError
from .io import load_fit
from .laws import LawError, LawSpec, law_names, list_laws, load_law
from .priors import PriorError
from .runs import Runs, RunsValidationError, RunsWarning, load_runs
from .sbc import SBCResult, sbc
from .synthetic import simulate

__version__ = "0.1.0"

__all__ = ["ComparisonWarning", "DecisionWarning", "Diagnostics", "Fit", "FormulaError", "LawError", "LawSpec",
           "PriorError", "Runs",
           "RunsValidationError", "RunsWarning", "SamplerWarning", "ModelCheckWarning", "DiscrepancyError", "compare", "fit", "fit_separately", "law_names", "list_laws",
           "load_fit", "load_law", "load_runs", "simulate", "datasets", "decisions", "kaplan", "synthetic",
           "__version__", "Backtest", "SBCResult", "backtest", "sbc"]
