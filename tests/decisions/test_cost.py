"""What a plan costs and budgets as people write them (bayes_scaling.decisions.cost)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bayes_scaling as bs
from bayes_scaling.decisions.cost import CostModel, Hardware, ShapeRule, budget_flops, cost_columns
from tests.helpers import mock_fit


def test_plain_cost_is_k_n_d_and_its_inverse():
    cost = CostModel()
    assert cost.plain
    ln, ld = np.log(7e10), np.log(1.4e12)
    assert np.exp(cost.log_compute(ln, ld)) == pytest.approx(6 * 7e10 * 1.4e12)
    assert cost.log_tokens(ln, cost.log_compute(ln, ld)) == pytest.approx(ld)
    assert np.exp(cost.log_n_at(np.log(5.76e23), 20.0)) == pytest.approx(np.sqrt(5.76e23 / 120))
    assert cost.describe() == "C = 6·N·D"


@settings(max_examples=60, deadline=None)
@given(log_n=st.floats(np.log(1e6), np.log(1e12)), tpp=st.floats(1.0, 1e4),
       inference=st.sampled_from([0.0, 1e9, 1e12, 1e14]), n_ctx=st.sampled_from([None, 2048.0]))
def test_every_cost_model_inverts_its_own_compute(log_n, tpp, inference, n_ctx):
    cost = CostModel(n_ctx=n_ctx, inference_tokens=inference)
    log_d = log_n + np.log(tpp)
    log_c = cost.log_compute(log_n, log_d)
    assert cost.log_tokens(log_n, log_c) == pytest.approx(log_d, abs=1e-6)
    assert cost.log_n_at(log_c, tpp) == pytest.approx(log_n, abs=1e-6)


def test_kaplans_attention_term_adds_flops_per_token():
    fixed = CostModel(n_ctx=2048, n_layer=80, d_model=8192)
    # Chinchilla 70B on 1.4T tokens: 6ND plus 6·80·2048·8192·D (about 11% more)
    c = np.exp(fixed.log_compute(np.log(7e10), np.log(1.4e12)))
    assert c == pytest.approx(1.4e12 * (6 * 7e10 + 6 * 80 * 2048 * 8192))
    rule = CostModel(n_ctx=2048)  # the shape follows the rule: d_model = (128·N/12)^(1/3)
    d_model = (128 * 7e10 / 12) ** (1 / 3)
    c = np.exp(rule.log_compute(np.log(7e10), np.log(1.4e12)))
    assert c == pytest.approx(1.4e12 * (6 * 7e10 + 6 * 2048 * d_model**2 / 128))
    assert "n_ctx 2048" in rule.describe()


def test_a_power_law_of_compute_fitted_to_runs():
    frame = bs.simulate("chinchilla", {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28},
                        bs.synthetic.chinchilla_design(30, seed=1), noise=0.01, seed=1)
    frame["C"] = 5.0 * frame["N"] ** 1.01 * frame["D"]  # C/(6ND) from 0.99 to 1.06 over these runs
    cost = CostModel.fit_power_law(bs.load_runs(frame))
    np.testing.assert_allclose(cost.power, (np.log(5.0), 1.01, 1.0), atol=1e-8)
    assert "fitted to 30 runs" in cost.describe()
    assert not cost.plain
    with pytest.raises(bs.BudgetError, match="recorded compute"):
        CostModel.fit_power_law(bs.load_runs(frame.drop(columns="C")))


def test_the_shape_rule_gives_an_architecture_of_about_n():
    arch = ShapeRule().architecture([1e9, 7e10])
    assert list(arch.columns) == ["n_layer", "d_model", "n_heads", "N_arch"]
    np.testing.assert_allclose(arch["N_arch"], [1e9, 7e10], rtol=0.2)
    assert (arch["d_model"] % 128 == 0).all()
    assert ShapeRule(aspect_ratio=64).architecture(7e10)["n_layer"].iloc[0] > arch["n_layer"].iloc[1]


def test_budgets_in_hours_and_money():
    h100 = Hardware.preset("H100", mfu=0.5, price_per_hour=2.0)
    per_hour = 989e12 * 0.5 * 3600
    assert budget_flops(gpu_hours=1000, hardware=h100)[0] == pytest.approx(1000 * per_hour)
    assert budget_flops(dollars=2000, hardware=h100)[0] == pytest.approx(1000 * per_hour)
    cols = cost_columns(np.array([per_hour]), h100)
    assert cols["gpu_hours"][0] == pytest.approx(1) and cols["dollars"][0] == pytest.approx(2)
    assert cost_columns([1e20], None) == {}


@pytest.mark.parametrize("call, match", [
    (lambda: Hardware(price_per_hour=2.0), "needs peak_flops"),
    (lambda: Hardware(peak_flops=1e15, mfu=1.5), "mfu is a fraction"),
    (lambda: Hardware(peak_flops=-1), "peak_flops must be"),
    (lambda: Hardware.preset("Z80"), "unknown accelerator"),
    (lambda: budget_flops(gpu_hours=10), "needs hardware"),
    (lambda: budget_flops(dollars=10, hardware=Hardware(1e15)), "price_per_hour"),
    (lambda: budget_flops(C=1e20, gpu_hours=10), "give the budget once"),
    (lambda: budget_flops(), "give the budget once"),
    (lambda: budget_flops(C=[1e20, -1]), r"C must be finite and > 0; bad at position\(s\) \[1\]"),
    (lambda: budget_flops(C=np.inf), "C must be finite"),
    (lambda: CostModel(inference_tokens=-1), "inference_tokens must be"),
    (lambda: CostModel(n_layer=80), "both n_layer and d_model"),
    (lambda: CostModel(n_layer=80, d_model=8192), "give n_ctx"),
    (lambda: CostModel(power=(1.0, 1.0, 0.0)), "q > 0"),
])
def test_bad_budgets_are_named(call, match):
    with pytest.raises(bs.BudgetError, match=match):
        call()


def test_decisions_take_budgets_in_hours_and_echo_them():
    fit = mock_fit(rel_sd=1e-3)
    hw = Hardware.preset("H100", price_per_hour=2.5)
    by_flops = fit.allocate(1e23)
    by_hours = fit.allocate(gpu_hours=1e23 / hw.flops_per_hour, hardware=hw)
    assert by_hours["N_opt_median"].iloc[0] == pytest.approx(by_flops["N_opt_median"].iloc[0], rel=1e-9)
    assert by_hours["dollars"].iloc[0] == pytest.approx(2.5e23 / hw.flops_per_hour)
    assert "H100" in by_hours.attrs["hardware"]
    rec = fit.recommend(dollars=1e6, hardware=hw)
    assert rec["dollars"].iloc[0] == pytest.approx(1e6) and rec["C"].iloc[0] == pytest.approx(4e5 * hw.flops_per_hour)
    with pytest.raises(bs.BudgetError, match="needs hardware"):
        fit.recommend(gpu_hours=100)


def test_an_attention_term_moves_the_optimum_to_fewer_tokens():
    fit = mock_fit(rel_sd=1e-3)
    plain = fit.allocate(1e22).iloc[0]
    attn = fit.allocate(1e22, cost=CostModel(n_ctx=8192)).iloc[0]
    assert attn["D_opt_median"] < plain["D_opt_median"]
    rec = fit.recommend(1e22, cost=CostModel(n_ctx=8192)).set_index("plan")
    assert rec.loc["recommended", "N"] == pytest.approx(attn["N_opt_median"], rel=0.01)


@settings(max_examples=80, deadline=None)
@given(values=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10)),
                       min_size=1, max_size=6))
def test_any_budget_list_is_accepted_or_refused_by_position(values):
    arr = np.asarray(values, dtype=float)
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        with pytest.raises(bs.BudgetError, match=rf"bad at position\(s\) \[{bad[0]}"):
            budget_flops(C=values)
    else:
        np.testing.assert_array_equal(budget_flops(C=values), arr)


def test_the_compute_for_a_target_is_echoed_in_hours():
    fit = mock_fit(rel_sd=1e-3)
    hw = Hardware.preset("A100", price_per_hour=1.0)
    out = fit.compute_for_target(2.3, hardware=hw).iloc[0]
    assert out["gpu_hours"] == pytest.approx(out["C"] / hw.flops_per_hour) and out["dollars"] == out["gpu_hours"]


def test_plans_and_next_runs_echo_hours_and_money():
    fit = mock_fit(rel_sd=0.02, draws=50)
    hw = Hardware.preset("H100", price_per_hour=3.0)
    cmp = fit.compare_plans([{"N": 1e9, "D": 2e10}], hardware=hw)
    assert list(cmp.columns[cmp.columns.get_loc("C"):][:3]) == ["C", "gpu_hours", "dollars"]
    assert cmp["dollars"].iloc[0] == pytest.approx(3.0 * 1.2e20 / hw.flops_per_hour)
    nxt = fit.next_runs("N_opt", at=1e23, budget=1e20, k=1, hardware=hw)
    assert nxt["gpu_hours"].iloc[0] == pytest.approx(nxt["C"].iloc[0] / hw.flops_per_hour)
