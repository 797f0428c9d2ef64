"""Compute-optimal allocation on mock posteriors (no sampler): closed form, numeric solver, errors."""


import numpy as np
import pandas as pd
import pytest

from bayes_scaling import decisions as dc
from bayes_scaling.data.synthetic import log_grid
from tests.helpers import mock_fit

# Hoffmann's rounded Eq. 10 constants give N_opt = 3.22e10, D_opt = 2.98e12, L = 1.931 at the
# Gopher budget (REFERENCE_VALUES.md section 4).
GOPHER_C = 5.76e23


def test_closed_form_reproduces_hoffmann_frontier(narrow):
    out = narrow.allocate(GOPHER_C)
    assert out.attrs["method"] == "closed_form"
    row = out.iloc[0]
    assert row["N_opt_median"] == pytest.approx(3.22e10, rel=0.01)
    assert row["D_opt_median"] == pytest.approx(2.98e12, rel=0.01)
    assert row["loss_opt_median"] == pytest.approx(1.931, abs=0.002)
    assert row["a_median"] == pytest.approx(0.28 / 0.62, rel=1e-3)
    assert row["b_median"] == pytest.approx(0.34 / 0.62, rel=1e-3)
    assert row["N_opt_lower"] <= row["N_opt_median"] <= row["N_opt_upper"]
    assert row["tokens_per_param_median"] == pytest.approx(2.98e12 / 3.22e10, rel=0.02)


def test_numeric_solver_agrees_with_closed_form_on_every_draw(wide):
    C = np.logspace(18, 26, 9)
    closed = wide.allocate_draws(C)
    numeric = wide.allocate_draws(C, method="numeric")
    assert numeric.attrs["method"] == "numeric"
    ok = numeric["interior"].values
    # the numeric optimum is flagged exactly where the true one lies outside the search bounds
    tpp = closed["tokens_per_param"].values
    np.testing.assert_array_equal(ok, (tpp > 1.001e-3) & (tpp < 0.999e7))
    assert ok.mean() > 0.99
    for v in ("N_opt", "D_opt", "loss_opt", "a", "b", "G", "tokens_per_param"):
        rel = np.abs(numeric[v].values[ok] / closed[v].values[ok] - 1)
        assert rel.max() < 1e-3, (v, rel.max())


def test_allocation_is_per_draw_not_plug_in(wide):
    """The interval comes from all draws: the median of N_opt is not N_opt at the median parameters."""
    draws = wide.allocate_draws([1e24])["N_opt"].values.ravel()
    out = wide.allocate([1e24], prob=0.9).iloc[0]
    assert out["N_opt_lower"] == pytest.approx(np.quantile(draws, 0.05))
    assert out["N_opt_upper"] == pytest.approx(np.quantile(draws, 0.95))
    assert out["N_opt_upper"] / out["N_opt_lower"] > 2  # wide posterior -> wide interval


def test_non_interior_optima_are_counted_not_dropped_silently(wide):
    # tokens per parameter capped at 1e2: many draws want more at this budget
    with pytest.warns(dc.DecisionWarning, match="no interior optimum"):
        out = wide.allocate([1e26], method="numeric", bounds=(1e-3, 1e2))
    n = out.loc[0, "n_not_interior"]
    assert 0 < n <= out.attrs["n_draws"]
    draws = wide.allocate_draws([1e26], method="numeric", bounds=(1e-3, 1e2))
    assert int((~draws["interior"]).sum()) == n
    assert np.isnan(draws["N_opt"].values[~draws["interior"].values]).all()


def test_decades_beyond_data_for_budgets(narrow):
    c = narrow.runs.values("C")
    out = narrow.allocate([c.max(), c.max() * 100, c.min() / 10])
    np.testing.assert_allclose(out["decades_beyond_data"], [0, 2, 1], atol=1e-9)


def test_flops_per_token_changes_allocation(narrow):
    six = narrow.allocate(GOPHER_C).iloc[0]
    eight = narrow.allocate(GOPHER_C, flops_per_token=8).iloc[0]
    a = 0.28 / 0.62
    assert eight["N_opt_median"] / six["N_opt_median"] == pytest.approx((6 / 8) ** a, rel=1e-6)
    assert eight.C * 0 == 0 and eight["D_opt_median"] * eight["N_opt_median"] * 8 == pytest.approx(GOPHER_C)


def test_numeric_law_uses_numeric_solver_and_local_exponent():
    truth = {"alpha_N": 0.076, "alpha_D": 0.103, "Nc": 6.4e13, "Dc": 1.8e13}
    design = pd.DataFrame([(n, d) for n in log_grid(1e6, 1e9, 6) for d in log_grid(2e7, 2e10, 6)],
                          columns=["N", "D"])
    fit = mock_fit("kaplan_nd", truth, design=design, rel_sd=1e-3)
    C = np.array([1e18, 1e21])
    out = fit.allocate(C)
    assert out.attrs["method"] == "numeric"
    assert (out["n_not_interior"] == 0).all()
    # the local exponent equals the slope of log N_opt between nearby budgets
    near = fit.allocate_draws(C * np.exp(0.01))["N_opt"].values
    slope = np.log(near / fit.allocate_draws(C)["N_opt"].values) / 0.01
    np.testing.assert_allclose(np.nanmedian(slope.reshape(-1, 2), axis=0), out["a_median"], rtol=1e-3)
    with pytest.raises(ValueError, match="not of the Chinchilla form"):
        fit.allocate(C, method="closed_form")


def test_allocation_needs_n_and_d():
    fit = mock_fit("kaplan_n", {"alpha_N": 0.076, "Nc": 8.8e13}, design={"N": log_grid(1e6, 1e10, 20)})
    with pytest.raises(ValueError, match="needs a law of N and D; law 'kaplan_n' has inputs \\['N'\\]"):
        fit.allocate(1e21)
    with pytest.raises(ValueError, match="needs a law of N and D"):
        fit.compare_plans([{"N": 1e9, "D": 2e10}])


@pytest.mark.parametrize("bad", [0, -1e21, np.nan, np.inf])
def test_bad_budgets_name_the_position(narrow, bad):
    with pytest.raises(ValueError, match=r"C must be finite and > 0; bad at position\(s\) \[1\]"):
        narrow.allocate([1e21, bad])


def test_bad_prob_and_method(narrow):
    with pytest.raises(ValueError, match="prob must be in"):
        narrow.allocate(1e21, prob=1.5)
    with pytest.raises(ValueError, match="method must be one of"):
        narrow.allocate(1e21, method="brent")
