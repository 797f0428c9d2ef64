"""bs.backtest: splits, bookkeeping of the per-run table and the summary, the baseline columns.

The fast tests replace the Bayesian fit by a mock posterior (tests/conftest.py) and, where the
baseline is not what is tested, the Huber fits by fixed values; one slow test runs it all.
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling import Fit
from bayes_scaling.data.synthetic import chinchilla_design
from bayes_scaling.posterior import inference
from bayes_scaling.posterior.diagnostics import diagnose
from tests.helpers import CHINCHILLA_TRUTH, mock_posterior

bt_module = importlib.import_module("bayes_scaling.checks.backtest")  # bs.backtest is the function
KAPLAN_ND = {"alpha_N": 0.076, "alpha_D": 0.103, "Nc": 6.4e13, "Dc": 1.8e13}


def synthetic_runs(n=60, seed=0, truth=CHINCHILLA_TRUTH, law="chinchilla", groups=None):
    frame = bs.simulate(law, truth, chinchilla_design(n, seed=seed), noise=0.01, seed=seed)
    if groups:
        frame["group"] = np.resize(groups, len(frame))
    return bs.load_runs(frame)


def mock_run_fit(calls=None, truth=None, rel_sd=0.01):
    """A stand-in for the Bayesian fit: a mock posterior around the truth, on the runs given."""

    def run_fit(runs, law, **kwargs):
        if calls is not None:
            calls.append((runs, kwargs))
        t = truth or (CHINCHILLA_TRUTH if law.name == "chinchilla" else KAPLAN_ND)
        tree = mock_posterior(law, runs, t, rel_sd=rel_sd, seed=kwargs.get("seed") or 0)
        names = list(law.parameters) + ["sigma", "nu"]
        return Fit(posterior=tree, runs=runs, law=law, likelihood="student_t",
                   settings={"sampler": "mock", "seed": kwargs.get("seed") or 0},
                   diagnostics=diagnose(tree, names))

    return run_fit


@pytest.fixture
def fake_baseline(monkeypatch):
    """Huber point fit = the truth, bootstrap = the truth with 2% jitter on E (fast)."""
    import bayes_scaling.checks.baseline as baseline

    def boot(N, D, loss, *, n_boot=1000, seed=0, init=None, **kw):
        rng = np.random.default_rng(seed)
        rows = [{**CHINCHILLA_TRUTH, "E": CHINCHILLA_TRUTH["E"] * (1 + 0.02 * rng.standard_normal())}
                for _ in range(n_boot)]
        return pd.DataFrame(rows)

    monkeypatch.setattr(bt_module, "huber_grid_fit", lambda N, D, L, **kw: dict(CHINCHILLA_TRUTH))
    monkeypatch.setattr(baseline, "huber_bootstrap", boot)


# ----------------------------------------------------------------------------- splits
def test_threshold_split_fits_at_or_below_and_holds_out_above():
    runs = synthetic_runs()
    c = runs.values("C")
    threshold = float(np.quantile(c, 0.7))
    folds, info = bt_module.split_runs(runs, "compute", threshold)
    train, held = folds["all"]
    assert info["by"] == "C" and info["threshold"] == threshold
    assert (train.values("C") <= threshold).all() and (held.values("C") > threshold).all()
    assert len(train) + len(held) == len(runs) == info["n_train"] + info["n_heldout"]
    assert info["train_range"][1] <= threshold < info["heldout_range"][0]


def test_fraction_split_holds_out_the_largest_and_reports_the_training_maximum():
    runs = synthetic_runs(n=50)
    folds, info = bt_module.split_runs(runs, "N", 0.2)
    train, held = folds["all"]
    assert len(held) == 10 and info["by"] == "N"
    assert held.values("N").min() > train.values("N").max() == info["threshold"]


@pytest.mark.parametrize("split, holdout, message", [
    ("compute", 1.0, "fraction in"), ("compute", -3, "fraction in"), ("compute", True, "fraction in"),
    ("compute", 1e40, "need runs on each side"), ("step", 0.2, "no numeric column"),
    ("group", None, "needs a 'group' column"),
])
def test_bad_splits_say_what_is_wrong(split, holdout, message):
    with pytest.raises(ValueError, match=message):
        bt_module.split_runs(synthetic_runs(n=20), split, holdout)


# ----------------------------------------------------------------------------- bookkeeping
def test_table_and_summary_arithmetic(monkeypatch, fake_baseline):
    calls = []
    monkeypatch.setattr(inference, "refit", mock_run_fit(calls))
    runs = synthetic_runs(n=60)
    threshold = float(np.quantile(runs.values("C"), 0.75))
    res = bs.backtest(runs, "chinchilla", holdout=threshold, prob=0.8, seed=3, n_boot=50)

    (train, kwargs), = calls
    assert (train.values("C") <= threshold).all() and len(train) == res.split["n_train"]
    assert kwargs["seed"] == 3 and kwargs["progress"] is False
    t = res.table
    assert len(t) == res.split["n_heldout"] == int((runs.values("C") > threshold).sum())
    assert (t["C"] > threshold).all() and (t["fold"] == "all").all()
    assert np.allclose(t["truth"], runs.data.loc[t.index, "loss"])
    assert (t["lower"] <= t["median"]).all() and (t["median"] <= t["upper"]).all()
    assert (t["covered"] == ((t["truth"] >= t["lower"]) & (t["truth"] <= t["upper"]))).all()
    assert np.allclose(t["rel_error"], (t["median"] - t["truth"]) / t["truth"])
    assert (t["decades_beyond"] >= 0).all()
    # the largest of N, D and C beyond the fitted range: at least C's distance
    assert t["decades_beyond"].max() >= np.log10(runs.values("C").max() / train.values("C").max()) - 1e-9

    s = res.summary
    assert list(s.index) == ["bayes", "huber_bootstrap"]
    for method, cov, rel in (("bayes", "covered", "rel_error"), ("huber_bootstrap", "baseline_covered",
                                                                  "baseline_rel_error")):
        assert s.loc[method, "n_heldout"] == len(t) and s.loc[method, "prob"] == 0.8
        assert s.loc[method, "coverage"] == pytest.approx(t[cov].mean())
        assert s.loc[method, "median_abs_rel_error"] == pytest.approx(np.median(np.abs(t[rel])))
        assert s.loc[method, "max_abs_rel_error"] == pytest.approx(np.max(np.abs(t[rel])))
    assert res.coverage == s.loc["bayes", "coverage"]
    # the baseline's point fit is the truth here: its error is the noise of the held-out runs
    assert np.allclose(t["baseline_point"], CHINCHILLA_TRUTH["E"] + CHINCHILLA_TRUTH["A"] / t["N"] **
                       CHINCHILLA_TRUTH["alpha"] + CHINCHILLA_TRUTH["B"] / t["D"] ** CHINCHILLA_TRUTH["beta"])
    assert (t["baseline_lower"] < t["baseline_upper"]).all()
    assert "Backtest chinchilla" in repr(res) and "<table" in res._repr_html_()
    assert set(res.by_fold().index.get_level_values("method")) == {"bayes", "huber_bootstrap"}


def test_predictive_intervals_are_wider_than_mean_ones(monkeypatch, fake_baseline):
    monkeypatch.setattr(inference, "refit", mock_run_fit())
    runs = synthetic_runs(n=40)
    wide = bs.backtest(runs, holdout=0.25, kind="predictive", n_boot=10).table
    narrow = bs.backtest(runs, holdout=0.25, kind="mean", n_boot=10).table
    assert ((wide["upper"] - wide["lower"]) > (narrow["upper"] - narrow["lower"])).all()


def test_baseline_intervals_present_from_the_real_huber_fits(monkeypatch):
    monkeypatch.setattr(inference, "refit", mock_run_fit())
    real = bt_module.huber_grid_fit
    monkeypatch.setattr(bt_module, "huber_grid_fit", lambda *a, **kw: real(*a, **{**kw, "n_starts": 2}))
    runs = synthetic_runs(n=30, seed=4)
    res = bs.backtest(runs, "chinchilla", holdout=0.2, n_boot=20, baseline_seed=5)
    t = res.table
    cols = ["baseline_point", "baseline_lower", "baseline_upper", "baseline_rel_error"]
    assert np.isfinite(t[cols].to_numpy()).all()
    assert (t["baseline_lower"] <= t["baseline_upper"]).all()
    assert np.abs(t["baseline_rel_error"]).max() < 0.1  # a sane fit of noise-1% synthetic data
    assert np.isfinite(res.summary.loc["huber_bootstrap", ["coverage", "median_abs_rel_error"]].astype(float)).all()
    assert res.split["baseline"]["n_boot"] == 20 and res.split["baseline"]["seed"] == 5


def test_other_laws_get_nan_baseline_columns_and_a_note(monkeypatch):
    monkeypatch.setattr(inference, "refit", mock_run_fit())
    runs = synthetic_runs(n=30, truth=KAPLAN_ND, law="kaplan_nd")
    res = bs.backtest(runs, "kaplan_nd", holdout=0.2)
    assert res.table[["baseline_point", "baseline_lower", "baseline_upper"]].isna().all().all()
    row = res.summary.loc["huber_bootstrap"]
    assert np.isnan(row["coverage"]) and "Chinchilla form" in row["note"]
    assert res.split["baseline"] is None and "Chinchilla form" in res.split["baseline_note"]
    assert np.isfinite(res.summary.loc["bayes", "coverage"])
    with pytest.raises(ValueError, match="Chinchilla form"):
        bs.backtest(runs, "kaplan_nd", holdout=0.2, baseline=True)


def test_leave_one_family_out(monkeypatch, fake_baseline):
    calls = []
    monkeypatch.setattr(inference, "refit", mock_run_fit(calls))
    runs = synthetic_runs(n=45, groups=["a", "b", "c"])
    res = bs.backtest(runs, "chinchilla", split="group", holdout=None, n_boot=10)
    assert [len(r) for r, _ in calls] == [30, 30, 30]
    for (train, _), g in zip(calls, "abc"):
        assert g not in set(train.data["group"])
    t = res.table
    assert list(pd.unique(t["fold"])) == ["a", "b", "c"] and (t["fold"] == t["group"]).all()
    assert len(t) == len(runs) == res.split["n_heldout"]
    assert set(res.fits) == {"a", "b", "c"}
    per = res.by_fold()
    assert per.loc[("b", "bayes"), "coverage"] == pytest.approx(t.loc[t["fold"] == "b", "covered"].mean())
    assert "30/30/30 (per fold) runs fitted" in repr(res) and "per fold" in res._repr_html_()
    one = bs.backtest(runs, "chinchilla", split="group", holdout="b", n_boot=10)
    assert set(one.table["fold"]) == {"b"}
    with pytest.raises(ValueError, match="unknown group"):
        bs.backtest(runs, split="group", holdout=["z"])
    with pytest.raises(ValueError, match="pooled"):
        bs.backtest(runs, split="group", holdout=None, pooled=["E"])


def test_warnings_of_the_fit_say_they_come_from_the_backtest(monkeypatch):
    inner = mock_run_fit()

    def warning_fit(runs, law, **kwargs):
        warnings.warn("did not converge", bs.SamplerWarning)
        return inner(runs, law, **kwargs)

    monkeypatch.setattr(inference, "refit", warning_fit)
    with pytest.warns(bs.SamplerWarning, match="backtest fit"):
        bs.backtest(synthetic_runs(n=20), "chinchilla", holdout=0.2, baseline=False)


def test_bad_arguments():
    runs = synthetic_runs(n=20)
    with pytest.raises(ValueError, match="prob"):
        bs.backtest(runs, prob=1.5)
    with pytest.raises(ValueError, match="kind"):
        bs.backtest(runs, kind="posterior")
    with pytest.raises(ValueError, match="baseline_grid"):
        bs.backtest(runs, baseline_grid="some")


# ----------------------------------------------------------------------------- real sampler
@pytest.mark.slow
def test_backtest_end_to_end_on_synthetic_chinchilla_runs():
    runs = synthetic_runs(n=60, seed=7)
    res = bs.backtest(runs, "chinchilla", holdout=0.2, seed=1, draws=300, tune=500, n_boot=100)
    t = res.table
    assert len(t) == 12 and res.split["fit_verdicts"]["all"] in ("pass", "warn")
    assert np.isfinite(t[["median", "lower", "upper", "baseline_point", "baseline_lower",
                          "baseline_upper"]].to_numpy()).all()
    # data simulated from the law: the predictions are good and the predictive intervals cover
    assert res.summary.loc["bayes", "median_abs_rel_error"] < 0.02
    assert res.summary.loc["bayes", "coverage"] >= 0.75


def test_bs_backtest_gives_each_fold_as_a_fit_with_its_decisions(monkeypatch):
    from bayes_scaling.posterior.record import FitRecord

    inner = mock_run_fit()

    def record_fit(runs, law, **kwargs):  # the refit seam returns records; bs.backtest makes them Fits
        f = inner(runs, law, **kwargs)
        return FitRecord(**{k: getattr(f, k) for k in FitRecord.__dataclass_fields__})

    monkeypatch.setattr(inference, "refit", record_fit)
    res = bs.backtest(synthetic_runs(n=30), "chinchilla", holdout=0.2, baseline=False)
    fold = res.fits["all"]
    assert isinstance(fold, bs.Fit) and fold.allocate(1e22)["N_opt_median"].iloc[0] > 0
    assert type(bt_module.backtest(synthetic_runs(n=30), "chinchilla", holdout=0.2, baseline=False).fits["all"]) \
        is FitRecord
