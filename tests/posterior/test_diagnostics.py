import re
import warnings

import numpy as np
import pytest

from bayes_scaling import SamplerWarning
from bayes_scaling.posterior.diagnostics import diagnose, warn_if_not_ok
from tests.helpers import mock_fit


def test_clean_posterior_passes(chinchilla_mock_fit):
    d = chinchilla_mock_fit.diagnostics
    assert d.ok and d.verdict == "pass" and d.divergences == 0 and d.max_rhat < 1.01
    assert str(d).startswith("PASS")


def test_divergences_are_reported():
    d = mock_fit(divergences=5).diagnostics
    assert not d.ok and d.verdict == "warn" and d.divergences == 5
    assert "5 divergent transitions" in str(d) and "target_accept" in str(d)
    assert mock_fit(divergences=200).diagnostics.verdict == "fail"


def test_disagreeing_chains_fail_rhat():
    fit = mock_fit()
    tree = fit.posterior.copy()
    post = tree["posterior"].to_dataset()
    shifted = post["E"].values.copy()
    shifted[0] += 0.5  # one chain elsewhere
    post["E"] = (("chain", "draw"), shifted)
    tree["posterior"] = post
    d = diagnose(tree, ["E", "alpha"])
    assert not d.ok and d.verdict == "fail" and d.worst_rhat == "E" and "R-hat of E" in str(d)


def test_low_ess_is_reported():
    fit = mock_fit()
    tree = fit.posterior.copy()
    post = tree["posterior"].to_dataset()
    walk = np.cumsum(np.random.default_rng(0).standard_normal(post["alpha"].shape) * 0.01, axis=1)
    post["alpha"] = (("chain", "draw"), 0.34 + walk)
    tree["posterior"] = post
    d = diagnose(tree, ["alpha"])
    assert not d.ok and "ESS of alpha" in str(d)


def test_not_ok_warns_at_once():
    d = mock_fit(divergences=5).diagnostics
    with pytest.warns(SamplerWarning, match="did not converge cleanly"):
        warn_if_not_ok(d, "chinchilla")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_if_not_ok(mock_fit().diagnostics, "chinchilla")


def test_summary_table(chinchilla_mock_fit):
    s = chinchilla_mock_fit.summary(prob=0.8)
    assert list(s.columns) == ["mean", "sd", "median", "lower", "upper", "ess_bulk", "ess_tail",
                               "r_hat", "mcse_mean"]
    assert list(s.index) == ["E", "alpha", "beta", "A", "B", "sigma", "nu"]
    assert (s["lower"] < s["median"]).all() and (s["median"] < s["upper"]).all()
    assert s.attrs["prob"] == 0.8
    with pytest.raises(ValueError):
        chinchilla_mock_fit.summary(prob=2)


@pytest.mark.parametrize("prob", [0.5, 0.9])
def test_summary_from_kept_convergence_equals_arviz_and_needs_no_arviz(chinchilla_mock_fit, prob):
    """The summary of a fit that keeps its convergence numbers (every fit made by bs.fit, and every
    saved one) is arviz's own table, computed without arviz."""
    import arviz as az

    from bayes_scaling.posterior.diagnostics import convergence_table, summarize

    fit, names = chinchilla_mock_fit, chinchilla_mock_fit.parameter_names
    kept = convergence_table(fit.posterior, names)
    post = fit.posterior["posterior"].to_dataset()[names]
    ref = az.summary(post, ci_prob=prob, ci_kind="eti", round_to="none")
    fast = summarize(fit.posterior, names, prob, kept)
    np.testing.assert_allclose(fast["mean"], ref["mean"], rtol=1e-12)
    np.testing.assert_allclose(fast["sd"], ref["sd"], rtol=1e-12)
    np.testing.assert_allclose(fast[["lower", "upper"]].to_numpy(),
                               ref[[c for c in ref.columns if c.startswith("eti")]].to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(fast[["ess_bulk", "r_hat", "mcse_mean"]].to_numpy(),
                               ref[["ess_bulk", "r_hat", "mcse_mean"]].to_numpy(), rtol=1e-12)
    pd_equal = summarize(fit.posterior, names, prob)  # without the kept numbers: arviz computes them
    np.testing.assert_allclose(pd_equal.to_numpy(), fast.to_numpy(), rtol=1e-12)
    bad = {k: v for k, v in kept.items() if k != "E"}  # a row missing: not trusted, all recomputed
    np.testing.assert_allclose(summarize(fit.posterior, names, prob, bad).to_numpy(), fast.to_numpy(), rtol=1e-12)


def test_summary_labels_vector_parameters_as_arviz_does():
    import arviz as az

    from bayes_scaling.posterior.diagnostics import convergence_table, summarize

    fit = mock_fit()
    tree = fit.posterior.copy()
    post = tree["posterior"].to_dataset()
    rng = np.random.default_rng(1)
    post["alpha"] = (("chain", "draw", "group"), 0.34 + 0.01 * rng.standard_normal((*post["E"].shape, 2)))
    tree["posterior"] = post.assign_coords(group=["a", "b"])
    kept = convergence_table(tree, ["E", "alpha"])
    assert list(kept) == ["E", "alpha[a]", "alpha[b]"]
    table = summarize(tree, ["E", "alpha"], 0.9, kept)
    ref = az.summary(tree["posterior"].to_dataset()[["E", "alpha"]], ci_prob=0.9, ci_kind="eti", round_to="none")
    assert list(table.index) == list(ref.index)
    np.testing.assert_allclose(table["median"], [float(np.median(post["E"])), *np.median(post["alpha"].values,
                                                                                       axis=(0, 1))])


def test_noise_checks_flag_heavy_tails_under_normal_noise_and_nu_below_one():
    from dataclasses import replace

    from bayes_scaling import ModelCheckWarning
    from bayes_scaling.posterior.diagnostics import noise_checks

    rng = np.random.default_rng(0)
    assert noise_checks(rng.standard_normal(100_000), "normal") == []  # Normal residuals: nothing to say
    heavy = rng.standard_t(3, 100_000)  # spikes: ~0.6% of rows beyond 4 sigma, where Normal expects 6
    (msg,) = noise_checks(heavy, "normal")
    k = int(np.sum(np.abs(heavy) > 4))
    assert f"{k:,} of 100,000 rows lie beyond 4 sigma" in msg and "expects 6.3" in msg
    assert "likelihood='student_t'" in msg
    assert noise_checks(heavy, "student_t") == []  # its nu allows the tails ...
    assert noise_checks(heavy, "student_t", nu=2.9) == []  # ... as on real runs (Epoch: 2.9)
    (t_msg,) = noise_checks(heavy, "student_t", nu=0.6)  # ... unless they are heavier than Cauchy's
    assert "nu = 0.6" in t_msg and f"{k:,} of 100,000 rows beyond 4 sigma" in t_msg
    assert noise_checks(heavy, "student_t", nu=1.0) == []  # NU_MIN itself passes
    # one 5-sigma row in 20 is not evidence enough (probability 1.3e-3 under Normal noise); two are
    assert noise_checks(np.r_[np.zeros(19), 5.0], "normal") == []
    assert len(noise_checks(np.r_[np.zeros(18), 5.0, -5.0], "normal")) == 1
    d = replace(mock_fit().diagnostics, checks=[msg])
    assert d.ok and d.verdict == "pass"  # a model check is not a sampler problem ...
    assert f"model check: {msg}" in str(d)  # ... but it is shown with the diagnostics
    with pytest.warns(ModelCheckWarning, match="Normal noise is contradicted"):
        warn_if_not_ok(d, "kaplan_ns")


def test_heavy_tail_note_names_the_far_rows_largest_first():
    from bayes_scaling.posterior.diagnostics import heavy_tail_note

    z = np.zeros(50)
    z[[3, 7]] = [5.0, -9.0]
    labels = [f"row {i}" for i in range(50)]
    note = heavy_tail_note(z, 0.01, 1.6, labels)
    assert "nu = 1.6" in note and "2 of 50 rows lie beyond 4 sigma" in note
    assert note.index("row 7: -8.6%") < note.index("row 3: +5.1%")
    assert heavy_tail_note(z, 0.01, 2.5, labels) is None  # ordinary tails
    assert heavy_tail_note(z, 0.01, 0.8, labels) is None  # below 1: noise_checks flags the fit instead
    assert heavy_tail_note(np.zeros(50), 0.01, 1.6, labels) is None  # nothing that far
    many = np.full(20, 6.0)
    assert "and 12 more" in heavy_tail_note(many, 0.01, 1.5, [str(i) for i in range(20)])


def test_the_record_names_its_far_rows_when_nu_is_below_two():
    fit = mock_fit()
    tree = fit.posterior.copy()
    post = tree["posterior"].to_dataset()
    post["nu"] = post["nu"] * 0 + 1.5
    frame = fit.runs.data.copy()
    frame.loc[frame.index[4], "loss"] *= 1.3  # one run 30% off the law
    from dataclasses import replace

    tree["posterior"] = post
    far = replace(fit, posterior=tree, runs=replace(fit.runs, data=frame))
    note = far.heavy_tail_note()
    assert note is not None and "1 of 40 rows" in note
    assert re.search(rf"row {frame.index[4]} \(N [0-9.e+]+, D [0-9.e+]+\): \+(29|30)\.[0-9]%", note)
    assert fit.heavy_tail_note() is None  # the mock's nu is large
