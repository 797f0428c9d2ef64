"""Iso-FLOP profiles (Approach 2): each budget's own optimum, and the law's beside it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.checks.isoflop import budget_labels, isoflop, profile
from tests.helpers import CHINCHILLA_TRUTH, mock_fit


def _sweep(budgets=(1e19, 1e20, 1e21), per=9, noise=0.002, seed=0):
    rows = []
    for c in budgets:
        n_opt = 0.6 * np.sqrt(c / 120)  # Chinchilla's optimum is near 20 tokens per parameter
        for n in n_opt * np.geomspace(0.25, 4, per):
            rows.append({"N": n, "D": c / (6 * n), "C": c})
    frame = pd.DataFrame(rows)
    return bs.simulate("chinchilla", CHINCHILLA_TRUTH, frame, noise=noise, seed=seed)


def test_budget_labels_group_runs_within_the_tolerance():
    labels = budget_labels(np.array([1e20, 1.01e20, 3e20, 2.99e20, 1e21]))
    assert len(np.unique(labels)) == 3 and labels[0] == labels[1] and labels[2] == labels[3]


def test_the_vertex_is_the_parabola_minimum_with_a_bootstrap_interval():
    n = np.geomspace(1e8, 1e10, 9)
    loss = np.exp(0.02 * (np.log(n) - np.log(1e9)) ** 2 + 0.7)
    out = profile(n, loss * np.exp(0.001 * np.random.default_rng(0).standard_normal(9)))
    assert out["interior"] and out["N_opt"] == pytest.approx(1e9, rel=0.05)
    assert out["N_opt_lower"] < out["N_opt"] < out["N_opt_upper"]
    edge = profile(n, np.exp(-0.01 * np.log(n)))  # loss still falling at the largest N
    assert not edge["interior"] and edge["note"]


def test_profiles_match_the_true_law_and_a_true_law_fit_agrees():
    runs = bs.load_runs(_sweep())
    res = isoflop(runs, n_boot=200)
    assert list(res.profiles["n_runs"]) == [9, 9, 9] and res.profiles["interior"].all()
    truth = mock_fit(rel_sd=1e-4).allocate(res.profiles["C"].to_numpy())["N_opt_median"].to_numpy()
    np.testing.assert_allclose(res.profiles["N_opt"], truth, rtol=0.15)
    assert res.comparison is None and res.agree is None


def test_a_law_that_misses_the_runs_optimum_is_flagged():
    runs = bs.load_runs(_sweep())
    wrong = mock_fit(truth={**CHINCHILLA_TRUTH, "alpha": 0.45}, rel_sd=1e-3)
    wrong = type(wrong)(**{**wrong.__dict__, "runs": runs})
    with pytest.warns(bs.DecisionWarning, match="disagrees with the iso-FLOP profiles"):
        res = wrong.isoflop(n_boot=200)
    assert not res.agree and ((res.comparison["ratio"] < 0.7) | (res.comparison["ratio"] > 1.3)).all()
    assert "law vs profiles: 0 of 3 budgets overlap" in repr(res)


def test_bad_input_says_what_is_needed():
    runs = bs.load_runs(_sweep(budgets=(1e19,), per=3))
    with pytest.raises(ValueError, match="no budget has 4 runs or more"):
        isoflop(runs)
    with pytest.raises(ValueError, match="prob must be in"):
        isoflop(runs, prob=1.5)
