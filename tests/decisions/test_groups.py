"""Group comparisons on a mock hierarchical posterior (no sampler)."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayes_scaling as bs
from bayes_scaling import Fit
from bayes_scaling.data.synthetic import chinchilla_design
from bayes_scaling.posterior.diagnostics import diagnose
from bayes_scaling.posterior.inference import complete_tree
from bayes_scaling.pymc_model.structure import resolve_structure
from tests.helpers import CHINCHILLA_TRUTH

GROUPS = {"small_alpha": dict(E=1.70, alpha=0.30), "big_alpha": dict(E=1.75, alpha=0.36)}


@pytest.fixture(scope="module")
def grouped():
    return make_grouped_fit()


def make_grouped_fit() -> Fit:
    """A Fit with alpha and E per group around GROUPS (mock posterior, no sampler)."""
    law = bs.load_law("chinchilla")
    frames = [bs.simulate(law, {**CHINCHILLA_TRUTH, **p}, chinchilla_design(20, seed=i), noise=0.01, seed=i)
              .assign(group=g) for i, (g, p) in enumerate(GROUPS.items())]
    runs = bs.load_runs(pd.concat(frames, ignore_index=True))
    st = resolve_structure(runs, law, ["alpha", "E"])
    rng = np.random.default_rng(0)
    shape = (2, 300)
    post = {}
    for name in law.parameters:
        if name in st.varying:
            vals = np.stack([GROUPS[g][name] * np.exp(0.01 * rng.standard_normal(shape)) for g in st.groups], -1)
            post[name] = (("chain", "draw", "group"), vals)
        else:
            post[name] = (("chain", "draw"), CHINCHILLA_TRUTH[name] * np.exp(0.01 * rng.standard_normal(shape)))
    for name in st.varying:  # population centre and between-group scale, as the real model names them
        post[f"{name}_mu"] = (("chain", "draw"), np.mean(post[name][1], axis=-1))
        post[f"{name}_tau"] = (("chain", "draw"), 0.1 * np.exp(0.1 * rng.standard_normal(shape)))
    post["sigma"] = (("chain", "draw"), 0.01 * np.exp(0.05 * rng.standard_normal(shape)))
    post["nu"] = (("chain", "draw"), 10 * np.exp(0.05 * rng.standard_normal(shape)))
    tree = xr.DataTree()
    coords = {"chain": [0, 1], "draw": np.arange(300), "group": list(st.groups)}
    tree["posterior"] = xr.DataTree(xr.Dataset(post, coords=coords))
    tree = complete_tree(tree, law, runs, "student_t", st)
    return Fit(posterior=tree, runs=runs, law=law, likelihood="student_t", settings={"seed": 0},
               diagnostics=diagnose(tree, list(post)), structure=st)


def test_predictions_need_a_group(grouped):
    with pytest.raises(ValueError, match="pass group= one of"):
        grouped.predict(N=1e9, D=2e10)
    with pytest.raises(ValueError, match="unknown group 'x'"):
        grouped.predict(N=1e9, D=2e10, group="x")
    a = grouped.predict(N=1e9, D=2e10, group="small_alpha").loc[0, "loss_median"]
    t = {**CHINCHILLA_TRUTH, **GROUPS["small_alpha"]}
    assert a == pytest.approx(t["E"] + t["A"] / 1e9 ** t["alpha"] + t["B"] / 2e10 ** t["beta"], rel=0.01)


def test_for_group_is_an_ordinary_fit(grouped):
    g = grouped.for_group("big_alpha")
    assert g.structure.plain and len(g.runs) == 20
    assert set(g.runs.data["group"]) == {"big_alpha"}
    out = g.allocate(1e24)
    assert out.loc[0, "a_median"] == pytest.approx(0.28 / (0.36 + 0.28), rel=0.02)
    # the tree's data groups hold that group's rows only; its log-likelihood is recomputed on demand
    mask = grouped.runs.data["group"].to_numpy() == "big_alpha"
    np.testing.assert_array_equal(g.posterior["observed_data"]["log_loss_obs"].values,
                                  grouped.posterior["observed_data"]["log_loss_obs"].values[mask])
    assert g.posterior["constant_data"].sizes["obs"] == 20 and "log_likelihood" not in g.posterior.children
    ll = g.with_log_likelihood().posterior["log_likelihood"]["log_loss_obs"].values
    np.testing.assert_allclose(ll, grouped.posterior["log_likelihood"]["log_loss_obs"].values[..., mask], rtol=1e-12)
    assert "log_likelihood" in grouped.posterior.children  # the grouped fit itself is untouched


def test_compare_and_rank_groups(grouped):
    big = 1e26
    n = np.sqrt(big / 6 / 20)
    cmp = grouped.compare_groups(N=n, C=big)
    row = cmp.iloc[0]
    assert (row["group_a"], row["group_b"]) == ("small_alpha", "big_alpha")
    assert row["diff_median"] > 0 and row["p_a_better"] < 0.2  # the larger alpha wins far out
    assert row["alpha_diff_median"] == pytest.approx(-0.06, abs=0.01)
    assert row["E_diff_median"] == pytest.approx(-0.05, abs=0.01)
    ranks = grouped.rank_groups(N=n, C=big)
    assert list(ranks["group"]) == ["big_alpha", "small_alpha"]
    assert ranks["p_best"].sum() == pytest.approx(1.0)
    assert ranks.loc[0, "expected_rank"] < 1.1


def test_group_offsets_report_offset_and_spread(grouped):
    off = grouped.group_offsets("small_alpha")
    assert list(off["group"]) == ["big_alpha"] and off.loc[0, "n_points"] == 20
    assert off.loc[0, "offset_lower"] <= off.loc[0, "offset_median"] <= off.loc[0, "offset_upper"]
    assert off.loc[0, "spread_median"] > 0
    with pytest.raises(ValueError, match="unknown reference group"):
        grouped.group_offsets("nope")


def test_group_methods_need_groups(chinchilla_mock_fit):
    with pytest.raises(ValueError, match="needs a fit with per-group parameters"):
        chinchilla_mock_fit.compare_groups(N=1e9, D=2e10)
    with pytest.raises(ValueError, match="no per-group parameters"):
        chinchilla_mock_fit.for_group("a")


def test_grouped_fit_saves_and_loads(grouped, tmp_path):
    again = bs.load_fit(grouped.save(tmp_path / "g.nc"))
    assert again.structure == grouped.structure
    pd.testing.assert_frame_equal(again.compare_groups(N=1e9, D=2e10), grouped.compare_groups(N=1e9, D=2e10))


# --------------------------------------------------------------------------- at a budget (issue 15)
def _true_optimum(p: dict, c: float) -> float:
    a = p["beta"] / (p["alpha"] + p["beta"])
    g = (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1 / (p["alpha"] + p["beta"]))
    return g * (c / 6) ** a


def test_allocate_on_a_pooled_fit_gives_one_row_per_group_and_budget():
    fit = make_grouped_fit()
    out = fit.allocate([1e22, 1e23])
    assert list(out.columns[:2]) == ["group", "C"] and len(out) == 2 * len(GROUPS)
    for g, p in GROUPS.items():
        row = out[(out["group"] == g) & (out["C"] == 1e22)].iloc[0]
        assert row["N_opt_median"] == pytest.approx(_true_optimum({**CHINCHILLA_TRUTH, **p}, 1e22), rel=0.1)
    draws = fit.allocate_draws([1e22])
    assert draws.sizes["group"] == len(GROUPS) and list(draws["group"].values) == list(GROUPS)


def test_groups_compared_at_a_budget_each_at_its_own_optimum():
    fit = make_grouped_fit()
    cmp = fit.compare_groups(C=1e22).iloc[0]
    a, b = cmp["group_a"], cmp["group_b"]
    alloc = fit.allocate(1e22).set_index("group")
    assert cmp["diff_median"] == pytest.approx(alloc.loc[a, "loss_opt_median"] - alloc.loc[b, "loss_opt_median"],
                                               abs=5e-3)
    assert cmp["N_opt_ratio_median"] == pytest.approx(alloc.loc[a, "N_opt_median"] / alloc.loc[b, "N_opt_median"],
                                                      rel=0.05)
    ranks = fit.rank_groups(C=[1e22, 1e24])
    assert set(ranks.columns) >= {"group", "C", "loss_median", "p_best", "expected_rank", "N_opt_median"}
    best = ranks[ranks["C"] == 1e22].iloc[0]
    assert best["p_best"] > 0.9 and best["group"] == alloc["loss_opt_median"].idxmin()
