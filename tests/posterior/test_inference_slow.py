"""Real-sampler tests (marked slow; they run in CI): parameter recovery on synthetic data,
Epoch's Chinchilla data against Epoch's bootstrap intervals, every Kaplan law, save/load."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import chinchilla_design, log_grid
from tests.helpers import CHINCHILLA_TRUTH

pytestmark = pytest.mark.slow


def _covers(fit, truth, prob=0.9):
    s = fit.summary(prob=prob)
    missed = {k: (v, s.loc[k, "lower"], s.loc[k, "upper"]) for k, v in truth.items()
              if not s.loc[k, "lower"] <= v <= s.loc[k, "upper"]}
    assert not missed, f"90% intervals miss the truth: {missed}"


def _converged(fit):
    d = fit.diagnostics
    assert d.divergences == 0, str(d)
    assert d.max_rhat <= 1.01, str(d)
    assert d.ok, str(d)


@pytest.fixture(scope="module")
def chinchilla_synthetic_fit():
    frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(200, seed=11), noise=0.01, seed=11)
    return bs.fit(bs.load_runs(frame), law="chinchilla", seed=11, progress=False)


def test_chinchilla_parameter_recovery(chinchilla_synthetic_fit):
    fit = chinchilla_synthetic_fit
    _converged(fit)
    _covers(fit, CHINCHILLA_TRUTH)
    assert fit.summary().loc["sigma", "median"] == pytest.approx(0.01, rel=0.25)


def test_save_load_predict_identical_after_real_fit(chinchilla_synthetic_fit, tmp_path):
    fit = chinchilla_synthetic_fit
    again = bs.load_fit(fit.save(tmp_path / "fit.nc"))
    for kind in ("mean", "predictive"):
        a = fit.predict(N=[7e10, 4e11], D=[1.4e12, 9e12], kind=kind)
        assert a.equals(again.predict(N=[7e10, 4e11], D=[1.4e12, 9e12], kind=kind))


def test_log_likelihood_matches_pymc(chinchilla_synthetic_fit):
    """Our numpy log-likelihood (used for LOO) equals PyMC's own for the same draws."""
    import pymc as pm

    from bayes_scaling.pymc_model.build import build_model

    fit = chinchilla_synthetic_fit
    model = build_model(fit.law, fit.runs, fit.likelihood)
    small = fit.posterior["posterior"].to_dataset().isel(draw=slice(0, 20))
    import xarray as xr

    tree = xr.DataTree()
    tree["posterior"] = xr.DataTree(small)
    ll = pm.compute_log_likelihood(tree, model=model, progressbar=False)
    theirs = ll["log_likelihood"]["log_loss_obs"].values
    ours = fit.posterior["log_likelihood"]["log_loss_obs"].isel(draw=slice(0, 20)).values
    np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


# Epoch AI's bootstrap 95% intervals (REFERENCE_VALUES.md section 3; SOURCE.md of chinchilla_epoch)
EPOCH_95 = {"E": (1.769, 1.871), "A": (285.214, 743.626), "B": (1042.357, 5810.344),
            "alpha": (0.317, 0.373), "beta": (0.331, 0.415)}


def test_epoch_chinchilla_medians_inside_epoch_intervals(epoch_frame):
    frame = epoch_frame.drop(epoch_frame["loss"].nlargest(5).index)  # as Epoch did: 240 runs
    runs = bs.load_runs(frame, N="Model Size", C="Training FLOP", loss="loss")
    assert len(runs) == 240 and runs.derived["D"].startswith("D = C / (6")
    fit = bs.fit(runs, law="chinchilla", seed=1, progress=False)
    _converged(fit)
    s = fit.summary()
    for name, (lo, hi) in EPOCH_95.items():
        assert lo <= s.loc[name, "median"] <= hi, (name, s.loc[name, "median"], lo, hi)
    pred = fit.predict(N=70e9, D=1.4e12)  # Chinchilla itself
    assert 1.9 < pred.loc[0, "loss_median"] < 2.05
    assert pred.loc[0, "loss_lower"] < pred.loc[0, "loss_median"] < pred.loc[0, "loss_upper"]


KAPLAN = {
    # law: (true published constants, design)
    "kaplan_n": ({"alpha_N": 0.076, "Nc": 8.8e13}, {"N": log_grid(1e6, 1e10, 40)}),
    "kaplan_d": ({"alpha_D": 0.095, "Dc": 5.4e13}, {"D": log_grid(1e7, 2e10, 40)}),
    "kaplan_c": ({"alpha_C": 0.050, "Cc": 3.1e8 * 8.64e19}, {"C": log_grid(1e15, 1e21, 40)}),
    "kaplan_nd": ({"alpha_N": 0.076, "alpha_D": 0.103, "Nc": 6.4e13, "Dc": 1.8e13},
                  pd.DataFrame([(n, d) for n in log_grid(1e6, 1e9, 8) for d in log_grid(2e7, 2e10, 8)],
                               columns=["N", "D"])),
    "kaplan_ns": ({"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3},
                  pd.DataFrame([(n, s) for n in log_grid(1e6, 1e9, 8) for s in log_grid(1e3, 2e5, 8)],
                               columns=["N", "step"])),
    "kaplan_bcrit": ({"alpha_B": 0.21, "Bstar": 2.1e8}, {"loss": np.linspace(2.5, 6.0, 30)}),
}


@pytest.mark.parametrize("law_name", list(KAPLAN))
def test_kaplan_law_recovers_published_constants(law_name):
    truth, design = KAPLAN[law_name]
    noise = 0.05 if law_name == "kaplan_bcrit" else 0.01
    seed = 40 + list(KAPLAN).index(law_name)  # a noise realisation of its own per law
    frame = bs.simulate(law_name, truth, design, noise=noise, seed=seed)
    runs = bs.load_runs(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.SamplerWarning)
        fit = bs.fit(runs, law=law_name, seed=seed, progress=False, likelihood="normal")
    _converged(fit)
    _covers(fit, truth)


CUSTOM_LAW = {
    "name": "compute_power_law",
    "formula": "E + A / C**gamma",
    "inputs": ["C"],
    "parameters": {
        "E": {"prior": {"dist": "LogNormal", "median": 1.5, "sigma": 0.5}},
        "gamma": {"prior": {"dist": "LogNormal", "median": 0.1, "sigma": 0.7}},
        "A": {"reference": {"input": "C", "form": "coefficient", "exponent": "gamma"},
              "prior": {"dist": "Normal", "mu": -1.0, "sigma": 1.5}},
    },
}


def test_custom_law_from_a_dict_fits_and_predicts(monkeypatch):
    """Also: the chains sample with BLAS on one thread (they run in parallel on every core)."""
    import nutpie
    from threadpoolctl import threadpool_info

    blas_threads, sample = [], nutpie.sample

    def recorded(*args, **kwargs):
        blas_threads.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        return sample(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", recorded)
    truth = {"E": 1.8, "A": 2000.0, "gamma": 0.16}
    # E and gamma are strongly correlated here, so one noise draw moves both: over seeds 1-8 the
    # rank of the truth in the posterior spread over 0.25-0.99 (seed 8 is a 1-in-100 draw).
    frame = bs.simulate(CUSTOM_LAW, truth, {"C": log_grid(1e17, 1e21, 30)}, noise=0.01, seed=3)
    fit = bs.fit(bs.load_runs(frame), law=CUSTOM_LAW, seed=3, progress=False)
    assert blas_threads and set(blas_threads) == {1}
    _converged(fit)
    _covers(fit, truth)
    out = fit.predict(C=1e23)
    assert out.loc[0, "decades_beyond_data"] == pytest.approx(2.0)


def test_pymc_sampler_option():
    frame = bs.simulate("kaplan_n", {"alpha_N": 0.076, "Nc": 8.8e13}, {"N": log_grid(1e6, 1e10, 20)},
                        noise=0.01, seed=9)
    # cores=1: no fork() of a process that nutpie/numba threads already run in (deadlock risk). 2 chains x 300
    # draws is at the edge of R-hat <= 1.01 here (about 1 seed in 3 flagged, measured over 34 seeds with either
    # Student-t density); remedy=False keeps this a test of the sampler option, not of the remedy's doubling
    fit = bs.fit(bs.load_runs(frame), law="kaplan_n", sampler="pymc", draws=300, tune=300, chains=2, cores=1,
                 seed=9, progress=False, remedy=False)
    assert fit.settings["sampler"] == "pymc"
    assert fit.posterior["posterior"].sizes["draw"] == 300
    assert fit.summary().loc["alpha_N", "median"] == pytest.approx(0.076, rel=0.05)


def test_a_large_fit_leaves_the_log_likelihood_for_later(monkeypatch):
    import importlib

    fit_module = importlib.import_module("bayes_scaling.posterior.inference")  # the module (bs.fit is the function)
    frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(30, seed=3), noise=0.01, seed=3)
    runs = bs.load_runs(frame)
    kw = dict(law="chinchilla", seed=3, progress=False, draws=100, tune=200, remedy=False)  # 4 x 100 draws kept
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few draws: the convergence warning is not the point here
        monkeypatch.setattr(fit_module, "LOG_LIKELIHOOD_AUTO_MAX", 4 * 100 * 30)  # exactly this size: stored
        assert "log_likelihood" in bs.fit(runs, **kw).posterior.children
        monkeypatch.setattr(fit_module, "LOG_LIKELIHOOD_AUTO_MAX", 4 * 100 * 30 - 1)  # one value more: left out
        fit = bs.fit(runs, **kw)
        assert "log_likelihood" not in fit.posterior.children
        assert "log_likelihood" in bs.fit(runs, log_likelihood=True, **kw).posterior.children
    ll = fit.with_log_likelihood().posterior["log_likelihood"]["log_loss_obs"]
    assert ll.shape == (4, 100, 30) and np.isfinite(ll.values).all()
