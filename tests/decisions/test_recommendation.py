"""The plan to pick at a budget (bayes_scaling.decisions.recommendation), on mock posteriors."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_scaling.decisions.optimum import all_draws, loss_function
from bayes_scaling.decisions.recommendation import risk_reducer
from bayes_scaling.law import evaluate
from tests.decisions.test_groups import make_grouped_fit
from tests.helpers import CHINCHILLA_TRUTH, mock_fit

GOPHER_C = 5.76e23


def _brute(fit, c, *, q=None, tolerance=0.005, k=6.0):
    """The risk's minimiser and flat range on a fine grid (20,001 sizes, every draw)."""
    draws = all_draws(fit)
    f, reduce = loss_function(fit, {}, draws, natural=True), risk_reducer(q, len(draws["E"]))
    log_ck = np.log(c / k)
    x = np.linspace(np.log(1e9), np.log(1e12), 20001)
    parts = []
    for i in range(0, len(x), 2000):
        loss = f(x[None, i:i + 2000], log_ck - x[None, i:i + 2000])
        parts.append(reduce(loss))
    r = np.concatenate(parts)
    flat = x[r <= (1 + tolerance) * r.min()]
    return np.exp(x[r.argmin()]), np.exp(flat.min()), np.exp(flat.max()), r.min()


@pytest.mark.parametrize("risk, q", [("mean", None), ("q90", 0.9)])
def test_the_bayes_action_and_flat_range_match_a_brute_force_search(wide, risk, q):
    out = wide.recommend(GOPHER_C, risk=risk).set_index("plan")
    best, lo, hi, least = _brute(wide, GOPHER_C, q=q)
    rec = out.loc["recommended"]
    # the valley is flat: the quantile risk's kinks move its minimiser by a few percent, not its value
    assert rec["N"] == pytest.approx(best, rel=0.01 if q is None else 0.05)
    assert rec["risk"] == pytest.approx(least, rel=1e-6 if q is None else 1e-4)
    assert rec["N_flat_lower"] == pytest.approx(lo, rel=0.002 if q is None else 0.01)
    assert rec["N_flat_upper"] == pytest.approx(hi, rel=0.002 if q is None else 0.01)
    assert rec["N_flat_lower"] < rec["N"] < rec["N_flat_upper"]
    assert rec["risk"] <= out["risk"].min() + 1e-12
    assert rec["D"] == pytest.approx(GOPHER_C / (6 * rec["N"]))


def test_regret_is_nonnegative_and_smallest_for_the_bayes_action(wide):
    out = wide.recommend([1e22, GOPHER_C], plans={"70B": {"N": 7e10}, "100 tpp": {"tokens_per_param": 100}})
    assert list(out["plan"][:5]) == ["recommended", "median N_opt", "20 tokens/param", "70B", "100 tpp"]
    assert (out["regret_lower"] >= -1e-12).all()
    for _, rows in out.groupby("C"):
        rows = rows.set_index("plan")
        assert rows.loc["recommended", "regret_mean"] <= rows["regret_mean"].min() + 1e-9
        assert rows.loc["70B", "N"] == pytest.approx(7e10, rel=1e-12)
        assert rows.loc["100 tpp", "tokens_per_param"] == pytest.approx(100)
        assert rows.loc["recommended", "loss_lower"] < rows.loc["recommended", "loss_upper"]
    assert out.attrs["risk"] == "mean" and out.attrs["flops_per_token"] == 6.0
    assert (out["decades_beyond_data"] >= 0).all()


def test_a_sharp_posterior_recommends_the_truth_with_no_regret(narrow):
    t = CHINCHILLA_TRUTH
    s = t["alpha"] + t["beta"]
    g = (t["alpha"] * t["A"] / (t["beta"] * t["B"])) ** (1 / s)
    n_true = g * (GOPHER_C / 6) ** (t["beta"] / s)
    rec = narrow.recommend(GOPHER_C).set_index("plan")
    assert rec.loc["recommended", "N"] == pytest.approx(n_true, rel=0.01)
    assert rec.loc["median N_opt", "N"] == pytest.approx(n_true, rel=0.01)
    assert rec.loc["recommended", "regret_mean"] < 1e-5
    assert rec.loc["20 tokens/param", "regret_mean"] > 1e-3  # Chinchilla's truth is not 20 tokens/param here


def test_the_quantile_risk_is_smooth_and_close_to_the_sample_quantile(wide):
    draws = all_draws(wide)
    f = loss_function(wide, {}, draws, natural=True)
    x = np.log(np.linspace(2.4e10, 2.9e10, 11))[None, :]
    loss = f(x, np.log(GOPHER_C / 6) - x)
    hd = risk_reducer(0.9, loss.shape[0])(loss)
    np.testing.assert_allclose(hd, np.quantile(loss, 0.9, axis=0), rtol=2e-3)
    assert np.abs(np.diff(hd, 2)).max() < 0.2 * np.abs(np.diff(np.quantile(loss, 0.9, axis=0), 2)).max()
    assert risk_reducer(None, 3)(np.array([[1.0], [2.0], [6.0]]))[0] == 3.0


def test_a_wider_tolerance_widens_the_flat_range(wide):
    a = wide.recommend(1e23, tolerance=0.001).iloc[0]
    b = wide.recommend(1e23, tolerance=0.01).iloc[0]
    assert b["N_flat_lower"] < a["N_flat_lower"] < a["N"] < a["N_flat_upper"] < b["N_flat_upper"]


def test_many_budgets_at_once_agree_with_one_at_a_time(wide):
    budgets = np.logspace(20, 24, 5)
    together = wide.recommend(budgets)
    alone = wide.recommend(budgets[2])
    rows = together[together["C"] == budgets[2]].reset_index(drop=True)
    np.testing.assert_allclose(rows["N"], alone["N"], rtol=1e-10)
    assert len(together) == 15


def test_pooled_fits_answer_per_group():
    out = make_grouped_fit().recommend(1e22)
    assert out.columns[0] == "group"
    assert set(out["group"]) == {"small_alpha", "big_alpha"}
    rec = out[out["plan"] == "recommended"].set_index("group")["N"]
    assert rec["small_alpha"] != pytest.approx(rec["big_alpha"], rel=0.05)


@pytest.mark.parametrize("kwargs, match", [
    (dict(C=0.0), "C"), (dict(C=[1e22, np.inf]), "C"), (dict(C=np.nan), "C"),
    (dict(C=1e22, tolerance=0), "tolerance must be in"), (dict(C=1e22, tolerance=1.5), "tolerance must be in"),
    (dict(C=1e22, risk="median"), "risk must be"), (dict(C=1e22, risk="q100"), "risk must be"),
    (dict(C=1e22, prob=1.2), "prob"),
    (dict(C=1e22, plans={"x": {"N": 1e9, "tokens_per_param": 20}}), "plan 'x' must be"),
    (dict(C=1e22, plans={"x": {"size": 1e9}}), "plan 'x' must be"),
    (dict(C=1e22, plans={"x": {"N": -1}}), "plan 'x' N"),
])
def test_bad_input_is_named(wide, kwargs, match):
    with pytest.raises(ValueError, match=match):
        wide.recommend(**kwargs)


def test_the_law_value_is_the_exponential_of_its_log():
    fit = mock_fit(rel_sd=0.05, seed=2)
    params = {k: v[:, None] for k, v in all_draws(fit).items()}
    logs = {"N": np.log([[1e8, 1e10]]), "D": np.log([[1e9, 3e11]])}
    np.testing.assert_allclose(evaluate.value(fit.law, params, logs),
                               np.exp(evaluate.log_value(fit.law, params, logs)), rtol=1e-12)
