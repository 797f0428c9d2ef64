"""The law in numpy (bayes_scaling.law.evaluate): the one evaluation behind predictions and decisions."""

from __future__ import annotations

import warnings

import numpy as np

import bayes_scaling as bs
from bayes_scaling.law.evaluate import log_value
from tests.helpers import CHINCHILLA_TRUTH


def test_log_value_is_the_formula_in_log_space():
    law = bs.load_law("chinchilla")
    n, d = np.array([1e8, 7e10]), np.array([2e9, 1.4e12])
    t = CHINCHILLA_TRUTH
    expected = np.log(t["E"] + t["A"] / n ** t["alpha"] + t["B"] / d ** t["beta"])
    np.testing.assert_allclose(log_value(law, t, {"N": np.log(n), "D": np.log(d)}), expected, rtol=1e-13)


def test_parameters_and_inputs_broadcast():
    law = bs.load_law("chinchilla")
    draws = {k: np.array([[v], [1.1 * v]]) for k, v in CHINCHILLA_TRUTH.items()}  # (2 draws, 1)
    out = log_value(law, draws, {"N": np.log([1e8, 1e9, 1e10])[None, :], "D": np.log(2e10)})
    assert out.shape == (2, 3) and np.isfinite(out).all()
    assert (np.diff(out[0]) < 0).all()  # bigger models, lower loss


def test_stable_far_beyond_any_data():
    """log-space evaluation: inputs whose value would overflow a float (log N = 2000) still work."""
    law = bs.load_law("chinchilla")
    out = log_value(law, CHINCHILLA_TRUTH, {"N": 2000.0, "D": 2000.0})
    np.testing.assert_allclose(out, np.log(CHINCHILLA_TRUTH["E"]), rtol=1e-12)
    small = log_value(law, CHINCHILLA_TRUTH, {"N": -2000.0, "D": np.log(1e10)})  # N = e^-2000: term huge
    np.testing.assert_allclose(small, np.log(CHINCHILLA_TRUTH["A"]) + 2000 * CHINCHILLA_TRUTH["alpha"], rtol=1e-12)


def test_non_positive_values_give_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "not provably positive": the point of this law
        spec = bs.load_law({"name": "diff", "formula": "E - A / N**alpha", "inputs": ["N"],
                            "parameters": {"E": {"prior": {"dist": "HalfNormal", "sigma": 1.0}},
                                           "A": {"prior": {"dist": "HalfNormal", "sigma": 1.0}},
                                           "alpha": {"prior": {"dist": "HalfNormal", "sigma": 1.0}}}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = log_value(spec, {"E": 1.0, "A": 10.0, "alpha": 0.5}, {"N": np.log([4.0, 400.0])})
    assert np.isnan(out[0]) and np.isclose(out[1], np.log(0.5))
