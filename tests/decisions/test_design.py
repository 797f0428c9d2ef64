"""The next runs to train (bayes_scaling.decisions.design), on mock posteriors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.decisions.cost import CostModel
from bayes_scaling.decisions.design import _Simulator, _Target, _weights, candidate_grid, next_runs, preposterior
from bayes_scaling.decisions.optimum import loss_function
from tests.helpers import mock_fit


@pytest.fixture(scope="module")
def fit():
    return mock_fit(rel_sd=0.05, sigma=0.02, seed=3, draws=100)  # 400 draws


def test_a_batch_within_the_budget_with_architectures(fit):
    out = fit.next_runs("N_opt", at=1e23, budget=3e20, k=3)
    assert list(out["rank"]) == [1, 2, 3][:len(out)] and 1 <= len(out) <= 3
    assert out["C"].sum() <= 3e20 * (1 + 1e-9)
    np.testing.assert_allclose(out["C"], 6 * out["N"] * out["D"])
    assert (out["expected_uncertainty"] <= out.attrs["uncertainty_now"] + 1e-12).all()
    assert out["expected_uncertainty"].is_monotonic_decreasing
    assert {"n_layer", "d_model", "n_heads"} <= set(out.columns)
    again = fit.next_runs("N_opt", at=1e23, budget=3e20, k=3)
    pd.testing.assert_frame_equal(out, again)  # seeded: the same answer twice


def test_the_preposterior_agrees_with_linear_gaussian_conditioning():
    """Near a Gaussian posterior, the variance a run removes is Cov(target, f)^2 / (Var f + sigma^2)
    (simple-scaling-laws' criterion); the importance-sampling answer, averaged over three seeds of
    the simulated outcomes, agrees within 0.015 and ranks the runs alike."""
    fit = mock_fit(rel_sd=0.01, sigma=0.01, seed=3, draws=250)
    target = _Target(fit, "N_opt", 1e23, 0.9, cost=CostModel())
    n, d = np.array([3e7, 1e8, 1e9, 3e9]), np.array([6e8, 1e10, 2e10, 3e11])
    mu = loss_function(fit)(np.log(n)[None], np.log(d)[None])
    noise = np.mean(fit.posterior["posterior"]["sigma"].values ** 2)
    linear = np.array([np.cov(target.values, m)[0, 1] ** 2 / (np.var(m, ddof=1) + noise) for m in mu.T])
    linear /= np.var(target.values, ddof=1)
    removed = np.mean([1 - (preposterior(target, _Simulator(fit, {}, seed, 64), np.log(n), np.log(d), 0,
                                         np.zeros((64, 1000)))[0] / target.now(1000)) ** 2 for seed in range(3)],
                      axis=0)
    np.testing.assert_allclose(removed, linear, atol=0.015)
    assert np.argmax(removed) == np.argmax(linear) == 2


def test_the_expected_width_uses_the_law_of_total_variance(fit):
    target = _Target(fit, "N_opt", 1e23, 0.9, cost=CostModel())
    s = len(target.values)
    flat = np.full((1, 8, s), 1.0 / s)
    assert target.expected(flat)[0] == pytest.approx(target.now(s))  # nothing learnt: nothing changes
    # outcomes that each pin one half of the draws: the posterior means differ, the width shrinks
    low = target.values < np.median(target.values)
    w = np.stack([np.where(low, 1.0, 0.0), np.where(low, 0.0, 1.0)] * 4)
    w = (w / w.sum(axis=1, keepdims=True))[None]
    assert target.expected(w)[0] < 0.8 * target.now(s)


def test_truncated_importance_weights():
    log_w = np.r_[np.zeros(99), 3.0][None]  # one draw 20 times as likely: 17% of the mass untruncated
    w = _weights(log_w)
    assert w.sum() == pytest.approx(1) and w.max() == pytest.approx(0.1 / (0.1 + 99 / (99 + np.exp(3))))
    np.testing.assert_allclose(_weights(np.zeros((1, 5))), 0.2)


def test_the_candidate_grid_spans_compute_and_tokens_per_parameter(fit):
    grid = candidate_grid(fit, 1e20, cost=CostModel())
    c = 6 * grid["N"] * grid["D"]
    assert c.max() == pytest.approx(1e20) and len(grid) == 48
    tpp = grid["D"] / grid["N"]
    runs_tpp = fit.runs.values("D") / fit.runs.values("N")
    assert tpp.min() == pytest.approx(max(runs_tpp.min(), 1.0)) and tpp.max() == pytest.approx(runs_tpp.max())


def test_regret_and_loss_targets(fit):
    for target in ("regret", "loss"):
        out = fit.next_runs(target, at=1e23, budget=1e20, k=2)
        assert len(out) >= 1 and out.attrs["uncertainty_now"] > 0


@pytest.mark.parametrize("kwargs, match", [
    (dict(k=0), "k must be an integer >= 1"), (dict(k=1.5), "k must be an integer"),
    (dict(budget=-1.0), "budget must be finite"), (dict(budget=np.nan), "budget must be finite"),
    (dict(target="width"), "target must be one of"),
    (dict(candidates=pd.DataFrame({"N": [1e12], "D": [1e12]})), r"candidate row\(s\) \[0\] cost more than"),
    (dict(candidates=pd.DataFrame({"N": [1e9]})), "candidates need columns N and D"),
    (dict(candidates=pd.DataFrame({"N": [1e9], "D": [-1.0]})), "candidates column 'D'"),
    (dict(target="prob_below"), "needs threshold="),
    (dict(at=None), "at must be finite"),
])
def test_bad_input_is_named(fit, kwargs, match):
    args = dict(target="N_opt", at=1e23, budget=1e20, k=2) | kwargs
    with pytest.raises(bs.DecisionInputError, match=match):
        next_runs(fit, args.pop("target"), **args)
