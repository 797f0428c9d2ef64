"""Every error and warning the package raises: one base class each, one home for all.

``except bs.BayesScalingError`` catches every error of the package (the command line does, to print
one line instead of a traceback); ``warnings.simplefilter("error", bs.BayesScalingWarning)`` turns
every warning of the package into an error. Errors about bad input also subclass ``ValueError``
(and a dataset that cannot be had subclasses nothing else), so code written against the built-in
classes keeps working.

The modules that raise them re-export them under their old homes (e.g.
``bayes_scaling.data.runs.RunsValidationError``); the top level exports every one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "BayesScalingError", "BayesScalingWarning",
    "RunsValidationError", "RunsWarning", "FormulaError", "PriorError", "LawError", "DiscrepancyError",
    "DatasetError", "DatasetChecksumError", "DatasetUnavailableError", "DecisionInputError", "BudgetError",
    "FitFileError", "FitFileWarning", "RunsFileError", "LawWarning",
    "InputError", "InputTypeError", "TaskError", "SamplerStartError",
    "SamplerWarning", "ModelCheckWarning", "DecisionWarning", "ComparisonWarning",
]


class BayesScalingError(Exception):
    """Base class of every error bayes_scaling raises on purpose."""


class BayesScalingWarning(UserWarning):
    """Base class of every warning bayes_scaling emits."""


# ----------------------------------------------------------------------------- input: runs, laws
class RunsValidationError(BayesScalingError, ValueError):
    """A runs table failed validation; ``problems`` lists every problem found.

    Each problem is a :class:`bayes_scaling.data.validation.Problem` (column, canonical name,
    rows, message); the message lists them all, one per line.
    """

    def __init__(self, problems: Sequence[Any], header: str = "Invalid runs table") -> None:
        self.problems: list[Any] = list(problems)
        self.header = header
        n = len(self.problems)
        lines = [f"{header} ({n} problem{'' if n == 1 else 's'}):", *(f"  - {p}" for p in self.problems)]
        super().__init__("\n".join(lines))

    def __reduce__(self):
        return type(self), (self.problems, self.header)


class RunsFileError(BayesScalingError, ValueError):
    """A runs file that cannot be read as a table (empty, not UTF-8, ragged lines, a header with a
    repeated column): the message names the file and says what was found."""


class RunsWarning(BayesScalingWarning):
    """A runs table looks suspicious, or rows were dropped on request."""


class FormulaError(BayesScalingError, ValueError):
    """A formula uses something outside the whitelist (the message names it)."""


class PriorError(BayesScalingError, ValueError):
    """A prior specification is malformed (the message names the parameter)."""


class LawError(BayesScalingError, ValueError):
    """A law specification is malformed (the message names the law and the field)."""


class LawWarning(BayesScalingWarning):
    """A law that loads but deserves a look (e.g. a formula not provably positive)."""


class DiscrepancyError(BayesScalingError, ValueError):
    """An unknown discrepancy, or one the law or the fit's structure does not support."""


# ----------------------------------------------------------------------------- datasets
class DatasetError(BayesScalingError):
    """An unknown dataset, a malformed registry entry or a bad option."""


class DatasetChecksumError(DatasetError):
    """A local or downloaded file whose sha256 is not the registered one."""


class DatasetUnavailableError(DatasetError):
    """The file is in no mirror nor the cache, and could not (or may not) be downloaded."""


# ----------------------------------------------------------------------------- results
class SamplerWarning(BayesScalingWarning):
    """The sampler did not converge cleanly; the numbers may be wrong."""


class ModelCheckWarning(BayesScalingWarning):
    """The data contradict an assumption of the model (Normal noise; a law that misfits part of the
    runs, seen as Student-t ``nu`` below 1); the intervals may be wrong.
    """


class InputError(BayesScalingError, ValueError):
    """A bad argument or option (a value out of range, an unknown name): the message names it and
    says what to pass. The more specific input errors below subclass it."""


class InputTypeError(BayesScalingError, TypeError):
    """An argument of the wrong kind (e.g. a path where a DataFrame or a file was expected)."""


class TaskError(BayesScalingError, RuntimeError):
    """A task of a many-fit workload (a backtest fold) failed on every attempt on its executor."""


class SamplerStartError(BayesScalingError, RuntimeError):
    """The Laplace start of a fit found no mode or no positive-definite curvature (the fit catches it and
    tunes from nutpie's initial point instead, saying why in ``fit.settings["laplace"]``)."""


class FitFileError(BayesScalingError, ValueError):
    """A fit file that cannot be read as one: not a fit, damaged, from a newer version, or edited
    since it was saved (its integrity record does not match). The message names the file."""


class FitFileWarning(BayesScalingWarning):
    """A fit file loaded with ``verify=False`` although its integrity record does not match."""


class DecisionInputError(InputError):
    """A decision got a bad argument (a budget <= 0, a tolerance outside (0, 1), k < 1, ...): the
    message names it and says what to pass."""


class BudgetError(DecisionInputError):
    """A budget, cost model or hardware that cannot be turned into FLOPs (e.g. a price per hour
    without the accelerator's throughput)."""


class DecisionWarning(BayesScalingWarning):
    """A decision rests on draws whose optimum is not interior, or far beyond the data."""


class ComparisonWarning(BayesScalingWarning):
    """A law comparison is less reliable than its table looks (e.g. high Pareto k in PSIS-LOO)."""
