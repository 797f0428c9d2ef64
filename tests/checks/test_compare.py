"""bs.compare on mock posteriors (no sampler): the table, the run checks, Pareto k, leave-largest-out."""

import dataclasses
import importlib
import re
import warnings

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling import Fit
from bayes_scaling.data.synthetic import chinchilla_design
from bayes_scaling.posterior.diagnostics import diagnose
from bayes_scaling.posterior.inference import complete_tree
from tests.helpers import CHINCHILLA_TRUTH, mock_fit, mock_posterior

compare_module = importlib.import_module("bayes_scaling.checks.compare")  # bs.compare is the function

COLUMNS = ["rank", "elpd_loo", "se", "d_loo", "dse", "weight", "p_loo", "n_bad_pareto_k",
           "elpd_llo", "se_llo", "d_llo", "dse_llo", "rank_llo"]
OFF = {**CHINCHILLA_TRUTH, "E": 1.74}  # a worse law: 3% too high an irreducible loss


def _runs(n=40, seed=0, outlier=None):
    frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(n, seed=seed), noise=0.01, seed=seed)
    if outlier is not None:
        frame.loc[outlier, "loss"] *= 1.3
    return bs.load_runs(frame)


def _fit(runs, truth=CHINCHILLA_TRUTH, likelihood="student_t", law="chinchilla", **kwargs):
    """A Fit around a tight mock posterior centred on ``truth`` (good Pareto k unless the data say not)."""
    spec = bs.load_law(law)
    kwargs.setdefault("rel_sd", 0.001)
    tree = mock_posterior(spec, runs, truth, likelihood=likelihood, **kwargs)
    names = list(spec.parameters) + (["sigma", "nu"] if likelihood == "student_t" else ["sigma"])
    return Fit(posterior=tree, runs=runs, law=spec, likelihood=likelihood,
               settings={"sampler": "mock", "seed": 0, "truth": dict(truth), "kwargs": kwargs},
               diagnostics=diagnose(tree, names))


def _quiet_compare(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.ComparisonWarning)
        return bs.compare(*args, **kwargs)


def test_exports():
    assert bs.compare is compare_module.compare
    assert issubclass(bs.ComparisonWarning, UserWarning)
    assert {"compare", "ComparisonWarning"} <= set(bs.__all__)


def test_loo_table_ranks_the_true_law_first_and_matches_arviz():
    import arviz_stats as azs

    runs = _runs()
    true, off = _fit(runs), _fit(runs, OFF)
    out = _quiet_compare([off, true], names=["off", "true"], refit=False)
    assert list(out.columns) == COLUMNS and out.index.name == "law"
    assert list(out.index) == ["true", "off"] and list(out["rank"]) == [0, 1]
    assert out.loc["true", "d_loo"] == 0 and out.loc["off", "d_loo"] < -5 * out.loc["off", "dse"]
    assert out["weight"].sum() == pytest.approx(1.0)
    assert out.loc["true", "weight"] > 0.9
    assert list(out["n_bad_pareto_k"]) == [0, 0]
    loo = azs.loo(true.posterior, var_name="log_loss_obs")
    assert out.loc["true", "elpd_loo"] == pytest.approx(loo.elpd)
    assert out.loc["true", "se"] == pytest.approx(loo.se)
    assert out.loc["true", "p_loo"] == pytest.approx(loo.p)
    assert out.loc["off", "d_loo"] == pytest.approx(out.loc["off", "elpd_loo"] - out.loc["true", "elpd_loo"])
    # refit=False: no leave-largest-out score, but the split is still reported
    assert out[["elpd_llo", "se_llo", "d_llo", "dse_llo"]].isna().all().all()
    assert out["rank_llo"].isna().all()
    assert out.attrs["holdout"]["n_heldout"] == 8 and out.attrs["holdout"]["n_train"] == 32
    assert out.attrs["warnings"] == [] and out.attrs["bad_pareto_k"] == {"off": [], "true": []}


def test_default_names_and_name_checks():
    runs = _runs()
    out = _quiet_compare([_fit(runs), _fit(runs, likelihood="normal")], refit=False)
    assert set(out.index) == {"chinchilla (student_t)", "chinchilla (normal)"}
    out = _quiet_compare([_fit(runs), _fit(runs)], refit=False)
    assert set(out.index) == {"chinchilla (student_t) #0", "chinchilla (student_t) #1"}
    with pytest.raises(ValueError, match="distinct labels"):
        bs.compare([_fit(runs), _fit(runs)], names=["a", "a"], refit=False)
    with pytest.raises(ValueError, match="2 distinct labels"):
        bs.compare([_fit(runs), _fit(runs)], names=["a"], refit=False)
    with pytest.raises(ValueError, match="at least two fits"):
        bs.compare([_fit(runs)], refit=False)
    with pytest.raises(ValueError, match="holdout must be"):
        bs.compare([_fit(runs), _fit(runs, OFF)], holdout=1, refit=False)


def test_fits_on_different_runs_are_refused_with_the_difference_named():
    a = mock_fit(n_runs=40, seed=0)
    with pytest.raises(ValueError, match=r"different runs: 'chinchilla' and 'other' differ \(40 vs 30 runs\)"):
        bs.compare([a, mock_fit(n_runs=30, seed=0)], names=["chinchilla", "other"], refit=False)
    with pytest.raises(ValueError, match=r"column 'N' differs at row\(s\) \[0, 1, 2, 3, 4\]"):
        bs.compare([a, mock_fit(n_runs=40, seed=1)], refit=False, names=["a", "b"])
    runs, bent = _runs(), _runs(outlier=7)
    with pytest.raises(ValueError, match=r"column 'loss' differs at row\(s\) \[7\]"):
        bs.compare([_fit(runs), _fit(bent)], refit=False)


def test_fits_of_different_responses_are_refused():
    a = mock_fit()
    b = dataclasses.replace(a, law=dataclasses.replace(a.law, response="B_crit"))
    with pytest.raises(ValueError, match="different responses.*'loss'.*'B_crit'"):
        bs.compare([a, b], names=["a", "b"], refit=False)


def test_pareto_k_warning_names_the_law_and_the_outlying_run():
    runs = _runs(outlier=7)  # row 7: loss 30% too high, against 1% noise
    normal = _fit(runs, likelihood="normal")  # a Normal likelihood is dragged by the outlier
    robust = _fit(runs)
    with pytest.warns(bs.ComparisonWarning, match=r"'chinchilla \(normal\)'.* 1 of 40 runs, row\(s\) 7 \(k=") as rec:
        out = bs.compare([normal, robust], refit=False)
    assert len(rec) == 1  # none for the Student-t fit, and arviz's generic warning is replaced
    assert "likelihood='student_t'" in str(rec[0].message)
    assert out.loc["chinchilla (normal)", "n_bad_pareto_k"] == 1
    assert out.loc["chinchilla (student_t)", "n_bad_pareto_k"] == 0
    assert out.attrs["bad_pareto_k"]["chinchilla (normal)"] == [7]
    assert out.attrs["good_k"] == pytest.approx({"chinchilla (normal)": min(1 - 1 / np.log10(1000), 0.7),
                                                 "chinchilla (student_t)": 2 / 3})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet = bs.compare([normal, robust], refit=False, warn=False)
    assert quiet.attrs["warnings"] == out.attrs["warnings"] and len(quiet.attrs["warnings"]) == 1


def test_pareto_k_warning_uses_the_runs_own_labels():
    frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(40, seed=0), noise=0.01, seed=0)
    frame.index = frame.index + 100
    frame.loc[107, "loss"] *= 1.3
    runs = bs.load_runs(frame)
    with pytest.warns(bs.ComparisonWarning, match=r"row\(s\) 107 \(k="):
        out = bs.compare([_fit(runs, likelihood="normal"), _fit(runs)], refit=False)
    assert out.attrs["bad_pareto_k"]["chinchilla (normal)"] == [107]


def _stub_refit(calls):
    def refit(fit, runs):
        calls.append((fit.law.name, runs))
        return _fit(runs, fit.settings["truth"], fit.likelihood, fit.law.name, **fit.settings["kwargs"])
    return refit


def test_leave_largest_out_refits_below_the_split_and_scores_the_largest(monkeypatch):
    calls = []
    monkeypatch.setattr(compare_module, "_refit", _stub_refit(calls))
    runs = _runs()
    true, off = _fit(runs), _fit(runs, OFF)
    out = _quiet_compare([off, true], names=["off", "true"], holdout=0.25)
    C = runs.values("C")
    largest = np.argsort(C)[::-1][:10]
    held = out.attrs["holdout"]
    assert held["column"] == "C" and held["n_heldout"] == 10 and held["n_train"] == 30
    assert sorted(held["heldout_runs"]) == sorted(runs.data.index[largest])
    assert held["threshold"] == C[largest].min()
    assert len(calls) == 2
    for _, train in calls:  # each law refit once, on the runs below the split, labels kept
        assert len(train) == 30 and train.values("C").max() < held["threshold"]
        assert set(train.data.index).isdisjoint(held["heldout_runs"])
    assert out.loc["true", "rank_llo"] == 0 and out.loc["off", "rank_llo"] == 1
    assert out.loc["true", "d_llo"] == 0 and out.loc["off", "d_llo"] < 0
    assert out.attrs["refit_diagnostics"] == {"off": true.diagnostics.verdict, "true": true.diagnostics.verdict}
    # elpd_llo = sum over held-out runs of log(mean over draws of p(y | refit draw))
    refit = _fit(calls[1][1], CHINCHILLA_TRUTH)
    ll = complete_tree(refit.posterior, refit.law, runs, "student_t")["log_likelihood"]["log_loss_obs"].values
    lpd = np.log(np.exp(ll).mean(axis=(0, 1)))[largest]
    assert out.loc["true", "elpd_llo"] == pytest.approx(lpd.sum(), rel=1e-10)
    assert out.loc["true", "se_llo"] == pytest.approx(np.sqrt(lpd.size * lpd.var()), rel=1e-10)
    assert out.loc["off", "d_llo"] == pytest.approx(out.loc["off", "elpd_llo"] - out.loc["true", "elpd_llo"])
    assert out.loc["off", "dse_llo"] > 0


def test_holdout_as_a_flop_threshold_and_bad_holdouts():
    fit = mock_fit()
    C = fit.runs.values("C")
    train, held, info = compare_module.holdout_split(fit, 1e21)
    assert info == {"column": "C", "threshold": 1e21}
    assert len(held) == int((C >= 1e21).sum()) and len(train) + len(held) == len(fit.runs)
    assert held.values("C").min() >= 1e21 > train.values("C").max()
    train, held, _ = compare_module.holdout_split(fit, 0.01)  # at least one run is held out
    assert len(held) == 1 and held.values("C")[0] == C.max()
    for bad in (0, 1, -0.5, float("nan"), True):
        with pytest.raises(ValueError, match="holdout must be"):
            compare_module.holdout_split(fit, bad)
    with pytest.raises(ValueError, match="need some on each side"):
        compare_module.holdout_split(fit, 10 * C.max())
    with pytest.raises(ValueError, match="need some on each side"):
        compare_module.holdout_split(fit, 0.999 * C.min())


def test_split_uses_the_first_input_when_runs_have_no_C(monkeypatch):
    frame = pd.DataFrame({"N": np.geomspace(1e7, 1e10, 20)})
    frame = bs.simulate("kaplan_n", {"alpha_N": 0.076, "Nc": 8.8e13}, frame, noise=0.01, seed=2)
    runs = bs.load_runs(frame)
    assert not runs.has("C")
    truth = {"alpha_N": 0.076, "Nc": 8.8e13}
    a, b = (_fit(runs, truth, law="kaplan_n"), _fit(runs, {**truth, "alpha_N": 0.08}, law="kaplan_n"))
    monkeypatch.setattr(compare_module, "_refit", _stub_refit([]))
    out = bs.compare([a, b], names=["a", "b"], warn=False)
    assert out.attrs["holdout"]["column"] == "N" and out.attrs["holdout"]["n_heldout"] == 4
    assert out.loc["a", "rank_llo"] == 0


def test_warnings_from_a_refit_say_they_come_from_the_refit(monkeypatch):
    stub = _stub_refit([])

    def warning_refit(fit, runs):
        warnings.warn("fit of 'chinchilla' did not converge cleanly", bs.SamplerWarning)
        return stub(fit, runs)

    monkeypatch.setattr(compare_module, "_refit", warning_refit)
    runs = _runs()
    with pytest.warns(bs.SamplerWarning) as rec:
        bs.compare([_fit(runs), _fit(runs, OFF)], names=["true", "off"])
    assert len(rec) == 2
    for w, name in zip(rec, ["true", "off"]):
        assert re.fullmatch(rf"leave-largest-out refit of '{name}' on the 32 runs with C < [0-9.e+]+: "
                            r"fit of 'chinchilla' did not converge cleanly", str(w.message))


def test_leave_largest_out_refuses_run_effect_fits():
    if "structure" not in {f.name for f in dataclasses.fields(Fit)}:
        pytest.skip("this version of Fit has no hierarchical structure")
    from bayes_scaling.pymc_model.structure import Structure

    runs = _runs()
    grouped = dataclasses.replace(_fit(runs), structure=Structure(run_effect=True))
    with pytest.raises(NotImplementedError, match="'a'.*run effects .*; use refit=False"):
        bs.compare([grouped, _fit(runs, OFF)], names=["a", "b"])


def test_a_fit_stored_without_log_likelihood_gets_it_when_compared():
    runs = _runs()
    true, off = _fit(runs), _fit(runs, OFF)
    expected = _quiet_compare([off, true], names=["off", "true"], refit=False)
    for f in (true, off):
        del f.posterior["log_likelihood"]  # as fit(log_likelihood=False) or a large fit leaves it
    assert "log_likelihood" not in true.posterior.children
    out = _quiet_compare([off, true], names=["off", "true"], refit=False)
    pd.testing.assert_frame_equal(out, expected)
    # computed for the comparison, without changing the fits (a fit record never changes)
    assert "log_likelihood" not in true.posterior.children and "log_likelihood" not in off.posterior.children
