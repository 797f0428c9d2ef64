"""bayes_scaling: Bayesian scaling-law fitting for training-budget decisions.

The data flow, one layer per step (``ARCHITECTURE.md``)::

    runs table --load_runs--> Runs (data) --(law spec: law)--> PyMC model (pymc_model)
      --NUTS--> posterior DataTree in a fit record (posterior)
      --> decisions (allocate, prob_below, compute_for_target, compare_plans, groups, Kaplan's frontier)
      --> plots --> checks (compare, backtest, sbc) --> report --> Fit (api) --> command line (cli)

Quick start::

    import bayes_scaling as bs
    runs = bs.load_runs("runs.csv", N="params", D="tokens", loss="val_loss")
    fit = bs.fit(runs, law="chinchilla", seed=1)
    fit.summary()                          # posterior of E, A, B, alpha, beta
    fit.predict(N=70e9, D=1.4e12)          # loss_median, loss_lower, loss_upper
    fit.allocate(C=[1e23, 1e24])           # N_opt, D_opt, loss_opt with intervals
"""

from . import decisions
from .api import Fit, backtest, fit, fit_separately, load_fit, plan
from .checks.backtest import Backtest
from .checks.compare import compare
from .checks.isoflop import IsoFLOP, isoflop
from .checks.sbc import SBCResult, sbc
from .core import __version__
from .core.errors import (
    BayesScalingError,
    BayesScalingWarning,
    BudgetError,
    ComparisonWarning,
    DatasetChecksumError,
    DatasetError,
    DatasetUnavailableError,
    DecisionInputError,
    DecisionWarning,
    DiscrepancyError,
    FitFileError,
    FitFileWarning,
    FormulaError,
    InputError,
    InputTypeError,
    LawError,
    LawWarning,
    ModelCheckWarning,
    PriorError,
    RunsFileError,
    RunsValidationError,
    RunsWarning,
    SamplerStartError,
    SamplerWarning,
    TaskError,
)
from .data import datasets, synthetic, units
from .data.runs import Runs, load_runs
from .data.synthetic import simulate
from .decisions import frontier as kaplan
from .decisions.cost import CostModel, Hardware, ShapeRule
from .law.spec import LawSpec, law_names, list_laws, load_law
from .posterior.diagnostics import Diagnostics
from .pymc_model.sampling import SamplerSettings
from .pymc_model.structure import StructureOptions

__all__ = [
    "Fit", "fit", "fit_separately", "load_fit", "load_runs", "Runs", "simulate", "plan",
    "load_law", "list_laws", "law_names", "LawSpec", "SamplerSettings", "StructureOptions", "Diagnostics",
    "compare", "backtest", "Backtest", "sbc", "SBCResult", "isoflop", "IsoFLOP",
    "datasets", "decisions", "kaplan", "synthetic", "units", "CostModel", "Hardware", "ShapeRule",
    "BayesScalingError", "BayesScalingWarning", "RunsValidationError", "RunsWarning", "FormulaError", "LawError",
    "PriorError", "DiscrepancyError", "DatasetError", "DatasetChecksumError", "DatasetUnavailableError",
    "SamplerWarning", "ModelCheckWarning", "DecisionWarning", "ComparisonWarning", "DecisionInputError",
    "BudgetError", "FitFileError", "FitFileWarning", "InputError", "InputTypeError", "LawWarning",
    "RunsFileError", "SamplerStartError", "TaskError", "__version__",
]
