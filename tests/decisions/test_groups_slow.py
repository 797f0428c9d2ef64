"""Families and checkpoints with the real sampler (marked slow; they run in CI)."""

import warnings

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import checkpoint_design, chinchilla_design
from tests.helpers import CHINCHILLA_TRUTH, simulate_checkpoints

pytestmark = pytest.mark.slow

FAMILIES = {"a": dict(E=1.70, alpha=0.30), "b": dict(E=1.75, alpha=0.36), "c": dict(E=1.72, alpha=0.33)}
NS = {"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}


@pytest.fixture(scope="module")
def family_fit():
    frames = [bs.simulate("chinchilla", {**CHINCHILLA_TRUTH, **p}, chinchilla_design(40, seed=i), noise=0.01,
                          seed=i).assign(group=g) for i, (g, p) in enumerate(FAMILIES.items())]
    runs = bs.load_runs(pd.concat(frames, ignore_index=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.SamplerWarning)  # checked below
        return bs.fit(runs, law="chinchilla", pooled=["alpha", "E"], seed=5, progress=False, target_accept=0.95)


def test_pooled_fit_recovers_each_familys_alpha(family_fit):
    d = family_fit.diagnostics
    assert d.divergences <= 2 and d.max_rhat <= 1.03, str(d)
    s = family_fit.summary(prob=0.9)
    for g, p in FAMILIES.items():
        assert s.loc[f"alpha[{g}]", "lower"] <= p["alpha"] <= s.loc[f"alpha[{g}]", "upper"], g


def test_family_with_larger_alpha_wins_far_beyond_the_data(family_fit):
    c = 100 * family_fit.runs.values("C").max()
    cmp = family_fit.compare_groups(C=c, N=np.sqrt(c / 6 / 20))  # 20 tokens per parameter
    row = cmp[(cmp["group_a"] == "a") & (cmp["group_b"] == "b")].iloc[0]
    assert 1 - row["p_a_better"] > 0.9  # b (alpha 0.36) beats a (alpha 0.30)
    assert row["alpha_diff_upper"] < 0
    ranks = family_fit.rank_groups(C=c, N=np.sqrt(c / 6 / 20))
    assert ranks.iloc[0]["group"] == "b"
    offsets = family_fit.group_offsets("a")
    assert set(offsets["group"]) == {"b", "c"}


def test_run_effect_gives_nominal_coverage_and_its_absence_does_not():
    """Checkpoints of one run share an offset: with the run effect, 90% intervals of the between-run
    parameters cover the truth at about the nominal rate; treating checkpoints as independent runs
    makes them far too narrow."""
    covered = {True: [], False: []}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bs.SamplerWarning)
        for sim in range(8):
            frame = simulate_checkpoints("kaplan_ns", NS, checkpoint_design(12, 20), run_sd=0.03, noise=0.005,
                                         seed=sim)
            runs = bs.load_runs(frame)
            for effect in (True, False):
                fit = bs.fit(runs, law="kaplan_ns", run_effect=effect, likelihood="normal", seed=sim,
                             progress=False, draws=500, tune=500)
                assert fit.runs.dropped == 24  # the first 10% of each run's checkpoints
                s = fit.summary(prob=0.9)
                covered[effect] += [s.loc[p, "lower"] <= NS[p] <= s.loc[p, "upper"] for p in ("alpha_N", "Nc")]
    assert np.mean(covered[True]) >= 0.75, covered
    assert np.mean(covered[False]) <= 0.6, covered


def test_integrating_the_run_offsets_out_gives_the_same_posterior(monkeypatch):
    """Normal noise with run effects: the collapsed model (offsets integrated out, then drawn from
    their conditional) and the centred model that samples every offset agree."""
    import importlib
    from collections import OrderedDict

    frame = simulate_checkpoints("kaplan_ns", NS, checkpoint_design(12, 20), run_sd=0.03, noise=0.005, seed=5)
    runs = bs.load_runs(frame)
    kw = dict(law="kaplan_ns", likelihood="normal", seed=5, progress=False, draws=1000, tune=1000)
    fast = bs.fit(runs, **kw)
    assert "run_effect" in fast.posterior["posterior"] and "run_z" not in fast.posterior["posterior"]
    model_module = importlib.import_module("bayes_scaling.pymc_model.build")
    fit_module = importlib.import_module("bayes_scaling.posterior.inference")
    monkeypatch.setattr(model_module, "collapsed", lambda structure, likelihood: False)
    monkeypatch.setattr(fit_module, "collapsed", lambda structure, likelihood: False)
    # the compiled-model caches key on (law, structure, likelihood, size), which fix the collapse: bypass them
    monkeypatch.setattr(importlib.import_module("bayes_scaling.pymc_model.sampling"), "_CACHE", OrderedDict())
    monkeypatch.setenv("BAYES_SCALING_NO_COMPILE_CACHE", "1")
    full = bs.fit(runs, **kw)
    assert full.structure.run_centered and "run_effect" in full.posterior["posterior"]
    for f in (fast, full):
        assert f.diagnostics.ok, str(f.diagnostics)
    a, b = fast.summary(), full.summary()
    for p in ("alpha_N", "alpha_S", "Nc", "Sc", "run_sd", "sigma"):
        se = np.hypot(a.loc[p, "sd"] / np.sqrt(a.loc[p, "ess_bulk"]), b.loc[p, "sd"] / np.sqrt(b.loc[p, "ess_bulk"]))
        assert abs(a.loc[p, "median"] - b.loc[p, "median"]) < 5 * se + 1e-12, (p, a.loc[p], b.loc[p])
        assert a.loc[p, "sd"] == pytest.approx(b.loc[p, "sd"], rel=0.15), p
    ea = fast.posterior["posterior"]["run_effect"].median(("chain", "draw"))
    eb = full.posterior["posterior"]["run_effect"].median(("chain", "draw"))
    np.testing.assert_allclose(ea.values, eb.values, atol=0.005)
    pred = [f.predict(N=1e9, step=1e5, kind="predictive").iloc[0] for f in (fast, full)]
    assert pred[0]["loss_median"] == pytest.approx(pred[1]["loss_median"], rel=0.01)


def test_auto_takes_normal_noise_for_large_checkpoint_tables_and_checks_its_tails(monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("bayes_scaling.pymc_model.build"), "AUTO_NORMAL_MIN_ROWS", 200)
    frame = simulate_checkpoints("kaplan_ns", NS, checkpoint_design(12, 20), run_sd=0.03, noise=0.005, seed=5)
    kw = dict(law="kaplan_ns", seed=5, progress=False, draws=500, tune=500)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.ModelCheckWarning)
        clean = bs.fit(frame, **kw)  # 12 runs x 18 rows after the warm-up = 216 rows >= 200
    assert clean.likelihood == "normal" and clean.settings["likelihood_choice"].startswith("auto: 216 rows")
    assert "run_z" not in clean.posterior["posterior"] and clean.diagnostics.checks == []
    spiky = frame.copy()
    late = spiky.index[spiky["step"] > spiky["step"].median()]
    spikes = np.random.default_rng(0).choice(late, 6, replace=False)
    spiky.loc[spikes, "loss"] *= 1.15  # loss spikes in 6 of 216 rows
    with pytest.warns(bs.ModelCheckWarning, match=r"Normal noise is contradicted: \d+ of 216 rows"):
        noisy = bs.fit(spiky, **kw)
    assert noisy.likelihood == "normal" and len(noisy.diagnostics.checks) == 1
    assert "model check" in str(noisy.diagnostics)
    with warnings.catch_warnings():
        warnings.simplefilter("error", bs.ModelCheckWarning)
        robust = bs.fit(spiky, likelihood="student_t", **kw)  # what the check advises: no check, and no pull
    assert robust.settings["likelihood_choice"] == "as requested" and robust.diagnostics.checks == []
    truth = NS["alpha_S"]
    error = {k: abs(f.summary().loc["alpha_S", "median"] - truth) for k, f in (("robust", robust), ("noisy", noisy))}
    assert error["robust"] < error["noisy"], error
