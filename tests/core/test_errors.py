"""Every error and warning of the package has one home and one of two base classes."""

from __future__ import annotations

import inspect
import pickle

import pytest

import bayes_scaling as bs
from bayes_scaling.core import errors

OLD_NAMES = ["RunsValidationError", "RunsWarning", "FormulaError", "PriorError", "LawError", "DiscrepancyError",
             "SamplerWarning", "ModelCheckWarning", "DecisionWarning", "ComparisonWarning"]


def _classes():
    return [c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__]


def test_every_class_has_a_package_base_and_is_exported_at_the_top():
    for cls in _classes():
        assert issubclass(cls, (bs.BayesScalingError, bs.BayesScalingWarning)), cls
        assert getattr(bs, cls.__name__) is cls
        assert cls.__name__ in errors.__all__


def test_old_names_and_builtin_bases_still_work():
    for name in OLD_NAMES:
        assert getattr(bs, name).__module__ == "bayes_scaling.core.errors"
    for name in ("RunsValidationError", "FormulaError", "PriorError", "LawError", "DiscrepancyError"):
        assert issubclass(getattr(bs, name), ValueError)  # code that caught ValueError keeps working
    assert issubclass(bs.datasets.DatasetChecksumError, bs.datasets.DatasetError)
    assert issubclass(bs.datasets.DatasetError, bs.BayesScalingError)


def test_no_module_defines_its_own_error_classes():
    import pkgutil

    import bayes_scaling

    for info in pkgutil.walk_packages(bayes_scaling.__path__, "bayes_scaling."):
        if info.name.endswith("__main__") or info.name == errors.__name__:
            continue
        module = __import__(info.name, fromlist=["_"])
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == info.name and issubclass(cls, (Exception, Warning)):
                pytest.fail(f"{info.name} defines {cls.__name__}: errors live in bayes_scaling.core.errors")


def test_runs_validation_error_lists_its_problems_and_pickles():
    err = bs.RunsValidationError(["column 'N' is bad", "column 'loss' is missing"], header="Bad table")
    assert str(err).splitlines() == ["Bad table (2 problems):", "  - column 'N' is bad",
                                     "  - column 'loss' is missing"]
    again = pickle.loads(pickle.dumps(err))
    assert again.problems == err.problems and str(again) == str(err)
