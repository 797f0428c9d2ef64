"""Budget questions on mock posteriors (no sampler): P(loss below), compute for a target, plans."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling import decisions as dc
from tests.helpers import CHINCHILLA_TRUTH, mock_fit

# Hoffmann's rounded Eq. 10 constants give N_opt = 3.22e10, D_opt = 2.98e12, L = 1.931 at the
# Gopher budget (REFERENCE_VALUES.md section 4).
GOPHER_C = 5.76e23


def test_prob_below_integrates_the_noise_exactly(wide):
    out = wide.prob_below(2.0, N=[7e10, 1e9], D=[1.4e12, 2e10])
    assert list(out.columns[:3]) == ["N", "D", "C"] and "prob_below" in out
    # Monte Carlo from predictive draws agrees with the exact per-draw CDF average
    sims = wide.predict_draws(N=[7e10, 1e9], D=[1.4e12, 2e10], kind="predictive", seed=1).values
    mc = (sims.reshape(-1, 2) < 2.0).mean(axis=0)
    np.testing.assert_allclose(out["prob_below"], mc, atol=0.02)
    assert out.loc[0, "prob_below"] > out.loc[1, "prob_below"]  # the bigger run is more likely below 2


def test_prob_below_includes_run_noise(narrow):
    """With the law known almost exactly, P(below the law's own value) is 1/2, not 0 or 1."""
    mean = narrow.predict(N=7e10, D=1.4e12).loc[0, "loss_median"]
    assert narrow.prob_below(mean, N=7e10, D=1.4e12).loc[0, "prob_below"] == pytest.approx(0.5, abs=0.01)


def test_compute_for_target_inverts_prob_below(wide):
    out = wide.compute_for_target([2.1, 2.3], prob=0.8)
    for _, row in out.iterrows():
        p = wide.prob_below(row["target"], N=row["N"], D=row["D"]).loc[0, "prob_below"]
        assert p == pytest.approx(0.8, abs=1e-6)
        assert row["C"] == pytest.approx(6 * row["N"] * row["D"], rel=1e-9)
        assert row["C_lower"] <= row["C_median"] <= row["C_upper"]
    assert out.loc[0, "C"] > out.loc[1, "C"]  # a lower target needs more compute


def test_compute_for_target_unreachable_says_so(wide):
    with pytest.raises(ValueError, match="not reached with probability 0.9"):
        wide.compute_for_target(1.0, prob=0.9)  # below the loss floor E ~ 1.69
    with pytest.raises(ValueError, match="already reached"):
        wide.compute_for_target(50.0, prob=0.5)


def test_compute_for_target_counts_draws_that_never_reach_it(wide):
    e = wide.posterior["posterior"]["E"].values.ravel()
    target = float(np.quantile(e, 0.95))  # prob=0.5: a draw reaches it iff its floor E is below it
    out = wide.compute_for_target(target, prob=0.5, decades=(6, 40)).iloc[0]
    assert out["frac_unreachable"] == pytest.approx(0.05, abs=0.002)
    assert np.isinf(out["C_upper"])
    assert np.isfinite(out["C_median"])


def test_compare_plans_regret_and_p_best(narrow):
    opt = narrow.allocate(GOPHER_C).iloc[0]
    plans = pd.DataFrame({"name": ["optimal", "gopher", "half-size"],
                          "N": [opt["N_opt_median"], 2.8e11, opt["N_opt_median"] / 2],
                          "C": [GOPHER_C, GOPHER_C, GOPHER_C]})
    out = narrow.compare_plans(plans)
    assert list(out["name"]) == ["optimal", "gopher", "half-size"]
    assert out.loc[0, "regret_median"] == pytest.approx(0, abs=1e-6)
    assert out.loc[1, "regret_median"] > out.loc[2, "regret_median"] > 0
    assert out["p_best"].sum() == pytest.approx(1.0)
    assert out.loc[0, "p_best"] > 0.9
    np.testing.assert_allclose(out["C"], GOPHER_C)
    # Gopher (280B, 300B tokens) is worse than Chinchilla-style allocation at the same compute
    assert out.loc[1, "loss_median"] > out.loc[0, "loss_median"]


def test_compare_plans_mixed_rows_and_errors(narrow):
    out = narrow.compare_plans([{"N": 7e10, "D": 1.4e12}, {"N": 7e10, "C": 6 * 7e10 * 1.4e12}])
    np.testing.assert_allclose(out["D"], [1.4e12, 1.4e12])
    with pytest.raises(ValueError, match=r"plan row\(s\) \[1\] have fewer"):
        narrow.compare_plans([{"N": 7e10, "D": 1.4e12}, {"N": 7e10}])
    with pytest.raises(ValueError, match="C != 6·N·D"):
        narrow.compare_plans([{"N": 7e10, "D": 1.4e12, "C": 1e20}])
    with pytest.raises(ValueError, match=r"plan column 'N' must be finite and > 0; bad in row\(s\) \[0\]"):
        narrow.compare_plans([{"N": -1.0, "D": 1.4e12}])
    with pytest.raises(ValueError, match="plans is empty"):
        narrow.compare_plans([])


def test_decisions_survive_save_and_load(narrow, tmp_path):
    again = bs.load_fit(narrow.save(tmp_path / "fit.nc"))
    pd.testing.assert_frame_equal(narrow.allocate([1e22, 1e24]), again.allocate([1e22, 1e24]))


def test_interval_columns_keep_infinite_draws():
    draws = np.r_[np.arange(90.0), np.full(10, np.inf)][:, None]
    cols = dc.interval_columns("C", draws, 0.9)
    assert np.isinf(cols["C_upper"][0]) and np.isfinite(cols["C_median"][0])


def test_truth_budget_helper_is_consistent():
    """The closed form in the package equals Hoffmann's Eq. 4 written out here."""
    t = CHINCHILLA_TRUTH
    g = (t["alpha"] * t["A"] / (t["beta"] * t["B"])) ** (1 / (t["alpha"] + t["beta"]))
    n_opt = g * (GOPHER_C / 6) ** (t["beta"] / (t["alpha"] + t["beta"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = mock_fit(rel_sd=1e-6).allocate(GOPHER_C).iloc[0]
    assert out["N_opt_median"] == pytest.approx(n_opt, rel=1e-4)
    assert out["G_median"] == pytest.approx(g, rel=1e-4)
