"""The per-draw optimum shared by every decision (bayes_scaling.decisions.optimum)."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_scaling.decisions.optimum import (
    compute_range,
    flops_per_token_of,
    loss_function,
    optimum,
    param_draws,
    positive_array,
)
from tests.helpers import mock_fit


@pytest.fixture(scope="module")
def fit():
    return mock_fit(rel_sd=0.05, seed=2)


def test_closed_form_and_golden_section_agree_draw_by_draw(fit):
    log_ck = np.log(np.array([[1e21, 1e24]]) / 6)
    closed = optimum(fit, log_ck, method="closed_form")
    numeric = optimum(fit, log_ck, method="numeric")
    assert closed["method"] == "closed_form" and numeric["method"] == "numeric"
    np.testing.assert_allclose(numeric["log_N"], closed["log_N"], atol=1e-6)
    np.testing.assert_allclose(numeric["a"], closed["a"], atol=1e-4)
    assert closed["interior"].all() and closed["log_N"].shape == (1000, 2)


def test_the_optimum_minimises_the_loss_along_the_budget(fit):
    f = loss_function(fit)
    log_ck = np.log(1e23 / 6)
    opt = optimum(fit, np.array([[log_ck]]))
    x = opt["log_N"][:, 0]
    for dx in (-0.05, 0.05):
        assert (f((x + dx)[:, None], (log_ck - x - dx)[:, None])[:, 0] > opt["log_loss"][:, 0]).all()


def test_helpers_check_their_inputs(fit):
    assert flops_per_token_of(fit, None) == 6.0 and flops_per_token_of(fit, 8) == 8.0
    with pytest.raises(ValueError, match="flops_per_token"):
        flops_per_token_of(fit, 0)
    lo, hi = compute_range(fit, 6.0)
    assert lo == fit.runs.values("C").min() and hi == fit.runs.values("C").max()
    assert param_draws(fit, "E").shape == (1000,)
    with pytest.raises(ValueError, match=r"bad at position\(s\) \[1\]"):
        positive_array("C", [1e20, -1.0])
    with pytest.raises(ValueError, match="is not of the Chinchilla form"):
        optimum(mock_fit("kaplan_nd", {"alpha_N": 0.076, "alpha_D": 0.103, "Nc": 6.4e13, "Dc": 1.8e13}),
                np.zeros((1, 1)), method="closed_form")
