"""The shared check of positive numeric arguments (bayes_scaling.core.checks)."""

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.core.checks import positive_array


def test_positive_values_pass_and_bad_ones_are_named_by_position():
    np.testing.assert_array_equal(positive_array("C", [1e20, 2e20]), [1e20, 2e20])
    with pytest.raises(bs.DecisionInputError, match=r"C must be finite and > 0; bad at position\(s\) \[1\]: \[0.0\]"):
        positive_array("C", [1e20, 0.0])
    with pytest.raises(bs.BudgetError, match="C got a boolean"):
        positive_array("C", True, bs.BudgetError)
    with pytest.raises(bs.DecisionInputError, match="C is empty"):
        positive_array("C", [])
    with pytest.raises(bs.DecisionInputError, match="C must be numbers"):
        positive_array("C", "lots")
