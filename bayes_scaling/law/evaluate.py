"""A law evaluated in numpy: the one function every numeric consumer calls.

Predictions over posterior draws, the compute-optimal search, the model discrepancy's Jacobian
and simulated runs all evaluate ``log(law)`` through :func:`log_value`: the same parse the PyMC
model uses, in log space wherever the formula allows (:mod:`bayes_scaling.law.formula`), with
parameters and inputs broadcast against each other as numpy arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .formula import NUMPY_OPS, Ops, Quantity

if TYPE_CHECKING:
    from .spec import LawSpec

__all__ = ["log_value", "value"]


def log_value(law: LawSpec, params: Mapping[str, Any], log_inputs: Mapping[str, Any], ops: Ops = NUMPY_OPS):
    """``log`` of the law's value, numpy, broadcast over parameters and inputs.

    Parameters
    ----------
    law : LawSpec
        The law.
    params : mapping
        Every law parameter on its natural scale (scalars or arrays, e.g. draws shaped ``(S, 1)``).
        A parameter declared ``positive`` is taken in log space.
    log_inputs : mapping
        The log of each of the law's inputs, keyed by runs-table column (``"N"``, ``"step"``, ...),
        scalars or arrays that broadcast against the parameters.
    ops : Ops, optional
        The numpy backend (default), or one that keeps inputs on their distinct values
        (:data:`bayes_scaling.pymc_model.gathered.NUMPY_GATHERED_OPS`, with such inputs; it returns
        a value of the same kind, which the caller takes to the rows).

    Returns
    -------
    numpy.ndarray
        ``log(law)``, NaN where the value is not positive (overflow and invalid values are
        not warned about: they are the caller's to judge).
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = law.formula.log_value(_env(law, params, log_inputs, ops), ops)
        return out if ops is not NUMPY_OPS else np.asarray(out)


def value(law: LawSpec, params: Mapping[str, Any], log_inputs: Mapping[str, Any]) -> np.ndarray:
    """The law's value, numpy, with the arguments of :func:`log_value`: for the many evaluations of a
    decision's search (about 3x faster than ``exp(log_value(...))``: sums of positive terms are
    added, not combined with ``logaddexp``). NaN or inf where the value is not finite."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.asarray(law.formula.value(_env(law, params, log_inputs, NUMPY_OPS), NUMPY_OPS), dtype=float)


def _env(law: LawSpec, params: Mapping[str, Any], log_inputs: Mapping[str, Any], ops: Ops) -> dict[str, Quantity]:
    env = {name: Quantity.of_value(params[name], ops, positive=p.constraint == "positive")
           for name, p in law.parameters.items()}
    for sym, col in law.inputs.items():
        env[sym] = Quantity.of_log(log_inputs[col], ops)
    return env
