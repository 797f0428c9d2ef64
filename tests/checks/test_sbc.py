"""bs.sbc: prior datasets, thinning, rank bookkeeping, the ECDF band and the verdicts.

The fast tests replace the fit (``bayes_scaling.posterior.inference.refit``) and fit in this process
(``max_workers=1``); one slow test runs the real sampler in two spawned worker processes.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayes_scaling as bs
from bayes_scaling import Fit
from bayes_scaling.data.synthetic import chinchilla_design
from bayes_scaling.posterior import inference
from bayes_scaling.posterior.diagnostics import diagnose
from tests.helpers import CHINCHILLA_TRUTH, mock_posterior

sbc_module = importlib.import_module("bayes_scaling.checks.sbc")  # bs.sbc is the function
PARAMS = ["E", "alpha", "beta", "A", "B", "sigma", "nu"]


def concentrated_fit(runs, law, **kwargs):
    """A mock fit (tests/conftest.py) whose posterior ignores the data: always near Hoffmann's values."""
    tree = mock_posterior(law, runs, CHINCHILLA_TRUTH, chains=4, draws=250, seed=kwargs["seed"] % 1000)
    return Fit(posterior=tree, runs=runs, law=law, likelihood="student_t", settings={"seed": kwargs["seed"]},
               diagnostics=diagnose(tree, list(law.parameters) + ["sigma", "nu"]))


def test_prior_datasets_come_from_the_fit_model():
    law = bs.load_law("chinchilla")
    design = chinchilla_design(12, seed=1)
    truths, y = sbc_module.prior_datasets(law, design, 50, seed=3)
    assert list(truths.columns) == PARAMS and len(truths) == 50
    assert y.shape == (50, 12) and np.isfinite(y).all() and (y > 0).all()
    again, y2 = sbc_module.prior_datasets(law, design, 50, seed=3)
    pd.testing.assert_frame_equal(truths, again)
    assert np.array_equal(y, y2)
    # the prior of log(A / N0^alpha) (at the design's geometric-mean N0) is Normal(-1, 1.5)
    log_n0 = np.log(design["N"]).mean()
    ref = np.log(truths["A"]) - truths["alpha"] * log_n0
    assert abs(ref.mean() + 1) < 0.7 and 0.9 < ref.std() < 2.2
    # with a normal likelihood there is no nu
    normal, _ = sbc_module.prior_datasets(law, design, 5, seed=3, likelihood="normal")
    assert list(normal.columns) == PARAMS[:-1]


def test_thin_spreads_the_draws_evenly():
    kept = sbc_module.thin(np.arange(2000), 200)
    assert kept.size == 200 and np.array_equal(kept, np.arange(0, 2000, 10))
    assert sbc_module.thin(np.arange(150), 200).size == 150
    assert sbc_module.thin(np.arange(1000), 300).size == 300


def test_ranks_in_range_and_miscalibration_is_caught(monkeypatch):
    monkeypatch.setattr(inference, "refit", concentrated_fit)
    res = bs.sbc("chinchilla", n_sims=12, design=15, seed=1, max_workers=1, rank_draws=100,
                 band_simulations=500)
    assert res.n_draws == 100  # 4 chains x 250 draws thinned to 100
    assert list(res.ranks.columns) == PARAMS and len(res.ranks) == 12
    assert res.ranks.dtypes.map(lambda d: d.kind == "i").all()
    assert ((res.ranks >= 0) & (res.ranks <= res.n_draws)).all().all()
    # a rank counts the thinned draws below the truth: a truth below every draw has rank 0
    low = res.truths["E"] < CHINCHILLA_TRUTH["E"] * 0.9
    assert (res.ranks.loc[low.to_numpy(), "E"] == 0).all() and low.any()
    # the posterior ignores the data: ranks pile up at 0 and n_draws, and the test says so
    assert res.verdict.loc["E", "verdict"] == "fail" and not res.passed
    assert res.verdict.loc["E", "points_outside"] > 0
    assert list(res.truths.columns) == PARAMS and len(res.diagnostics) == 12
    assert set(res.diagnostics.columns) >= {"divergences", "max_rhat", "min_ess_bulk", "verdict", "seconds"}
    assert res.settings["n_runs"] == 15 and res.settings["max_workers"] == 1
    assert "FAIL" in repr(res) and "<table" in res._repr_html_()


def test_calibrated_posteriors_pass(monkeypatch):
    """If the 'posterior' draws are independent draws from the prior, truth and draws are
    exchangeable, the ranks are uniform and every parameter must pass."""
    law = bs.load_law("chinchilla")
    design = chinchilla_design(15, seed=1)
    n_sims, chains, draws = 40, 2, 100
    with pytest.warns(UserWarning, match="conditional on finite data"):  # a few draws with a tiny nu
        pool, _ = sbc_module.prior_datasets(law, design, n_sims * chains * draws, seed=99)
    assert len(pool) == n_sims * chains * draws and 0 < pool.attrs["redrawn"] < 40
    calls = []

    def exchangeable_fit(runs, law, **kwargs):
        i = len(calls)
        calls.append(kwargs)
        chunk = pool.iloc[i * chains * draws:(i + 1) * chains * draws]
        post = xr.Dataset({p: (("chain", "draw"), chunk[p].to_numpy().reshape(chains, draws)) for p in PARAMS},
                          coords={"chain": np.arange(chains), "draw": np.arange(draws)})
        diag = SimpleNamespace(divergences=0, max_rhat=1.0, min_ess_bulk=float(chains * draws), verdict="pass")
        return SimpleNamespace(posterior=xr.DataTree.from_dict({"posterior": post}), diagnostics=diag)

    monkeypatch.setattr(inference, "refit", exchangeable_fit)
    res = bs.sbc(law, n_sims=n_sims, design=design, seed=5, max_workers=1, draws=draws, chains=chains,
                 tune=50, band_simulations=1000)
    assert res.passed, res.verdict
    assert res.n_draws == 200 and len(res.ranks) == n_sims
    # every fit got the sampler settings asked for, one core, no progress bar, its own seed
    assert all(k["draws"] == draws and k["chains"] == chains and k["tune"] == 50 and k["cores"] == 1
               and k["progress"] is False for k in calls)
    assert len({k["seed"] for k in calls}) == n_sims
    assert (res.verdict["mean_rank"] - 0.5).abs().max() < 0.15


def test_band_and_plot():
    band = sbc_module.ecdf_band(50, 0.99, n_simulations=500)
    assert band["x"].iloc[0] == 0 and band["x"].iloc[-1] == 1 and len(band) == 51
    assert (band["lower"] <= band["x"] + 1e-12).all() and (band["x"] <= band["upper"] + 1e-12).all()
    assert ((band["lower"] >= 0) & (band["upper"] <= 1)).all()
    narrower = sbc_module.ecdf_band(50, 0.5, n_simulations=500)
    assert (narrower["upper"] - narrower["lower"]).sum() < (band["upper"] - band["lower"]).sum()

    ranks = pd.DataFrame({"a": np.arange(20) * 5, "b": np.zeros(20, dtype=int)}, index=pd.RangeIndex(20, name="sim"))
    band20, verdict = sbc_module._verdict(ranks, 99, 0.99, 500, 0)
    assert verdict.loc["a", "verdict"] == "pass" and verdict.loc["b", "verdict"] == "fail"
    res = sbc_module.SBCResult(law="toy", ranks=ranks, n_draws=99, verdict=verdict, truths=ranks * 0.0,
                               diagnostics=pd.DataFrame({"verdict": ["pass"] * 20}), band=band20, prob=0.99)
    fig = res.plot()
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 and visible[1].get_title() == "b: FAIL"


def test_bad_arguments():
    with pytest.raises(ValueError, match="n_sims"):
        bs.sbc("chinchilla", n_sims=1)
    with pytest.raises(ValueError, match="design"):
        bs.sbc("kaplan_ns", n_sims=4)
    with pytest.raises(ValueError, match="lacks"):
        bs.sbc("chinchilla", n_sims=4, design=pd.DataFrame({"N": [1e8, 1e9]}))


@pytest.mark.slow
def test_sbc_real_fits_in_two_spawned_processes():
    res = bs.sbc("chinchilla", n_sims=4, design=20, seed=0, draws=200, tune=300, max_workers=2,
                 band_simulations=500)
    assert res.n_draws == 200 and res.settings["max_workers"] == 2
    assert ((res.ranks >= 0) & (res.ranks <= 200)).all().all()
    assert len(res.diagnostics) == 4 and (res.diagnostics["seconds"] > 0).all()
    assert set(res.verdict["verdict"]) <= {"pass", "fail"}


def test_a_failing_fit_is_left_out_with_a_warning(monkeypatch):
    def sometimes(runs, law, **kwargs):
        if sometimes.calls == 1:
            sometimes.calls += 1
            raise RuntimeError("sampler crashed")
        sometimes.calls += 1
        return concentrated_fit(runs, law, **kwargs)

    sometimes.calls = 0
    monkeypatch.setattr(inference, "refit", sometimes)
    with pytest.warns(UserWarning, match="1 of 5 SBC fits raised"):
        res = bs.sbc("chinchilla", n_sims=5, design=15, seed=1, max_workers=1, band_simulations=200)
    assert list(res.ranks.index) == [0, 2, 3, 4] and list(res.truths.index) == [0, 2, 3, 4]
    assert "sampler crashed" in res.settings["failed_fits"][1]
