"""Student-t noise with one ``log`` per row (bayes_scaling.pymc_model.student_t): the same density and
gradient as PyMC's ``StudentT``, draws from ``StudentT``, and the model every Student-t fit builds."""

import functools

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import bayes_scaling as bs
from bayes_scaling.law.spec import load_law
from bayes_scaling.pymc_model import build
from bayes_scaling.pymc_model.student_t import student_t, student_t_logp


@functools.cache
def _compiled():
    """Value and gradient (in nu, mu, sigma) of the sum of the two log densities."""
    nu, mu, sigma = pt.dscalar("nu"), pt.dscalar("mu"), pt.dscalar("sigma")
    y = pt.dvector("y")
    ours = pt.sum(student_t_logp(y, nu, mu, sigma))
    pymc = pt.sum(pm.logp(pm.StudentT.dist(nu=nu, mu=mu, sigma=sigma), y))
    f = pytensor.function([y, nu, mu, sigma], [ours, pymc, *pt.grad(ours, [nu, mu, sigma]),
                                               *pt.grad(pymc, [nu, mu, sigma])])
    return f


def _both(values):
    out = _compiled()(*values)
    return out[0], out[1], np.array(out[2:5]), np.array(out[5:8])


@settings(max_examples=60, deadline=None)
@given(st.floats(0.5, 200.0), st.floats(-3.0, 3.0), st.floats(1e-3, 5.0),
       st.lists(st.floats(-50.0, 50.0), min_size=1, max_size=20))
def test_the_density_and_its_gradient_equal_pymcs_student_t(nu, mu, sigma, ys):
    ours, theirs, g_ours, g_theirs = _both([np.array(ys), nu, mu, sigma])
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9 * len(ys))
    np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-7, atol=1e-9 * (1 + np.abs(g_theirs).max()))


def test_the_density_is_scipys_far_below_and_far_above_the_scale():
    ys = np.array([1.0 + 1e-12, 1.0 + 1e-6, 1.0, 4.0, 1e6])  # r^2 far below nu sigma^2, and far above
    nu, mu, sigma = 4.0, 1.0, 0.01
    got = student_t_logp(ys, nu, mu, sigma).eval()
    pymc = pm.logp(pm.StudentT.dist(nu=nu, mu=mu, sigma=sigma), ys).eval()
    np.testing.assert_allclose(got, pymc, rtol=1e-13, atol=1e-13)
    # both share pytensor's gammaln, 1.5e-10 from scipy's constant here
    np.testing.assert_allclose(got, stats.t.logpdf(ys, nu, loc=mu, scale=sigma), rtol=1e-9)


def test_draws_are_student_t_and_the_variable_is_observed():
    with pm.Model() as model:
        student_t("y", 3.0, 0.5, 2.0, observed=np.zeros(4000), dims=None)
    assert [v.name for v in model.observed_RVs] == ["y"]
    draws = pm.draw(model["y"], random_seed=1)
    assert draws.shape == (4000,)
    assert stats.kstest(draws, stats.t(3.0, loc=0.5, scale=2.0).cdf).pvalue > 1e-3
    assert stats.kstest(draws, stats.norm(0.5, 2.0 * np.sqrt(3.0)).cdf).pvalue < 1e-3  # the test can tell


def test_a_student_t_fit_model_uses_it():
    runs = bs.load_runs(pd.DataFrame({"N": [1e8, 1e8, 1e9, 1e9, 1e10], "D": [1e9, 1e10, 1e9, 1e10, 1e11],
                                      "loss": [3.4, 3.0, 3.1, 2.7, 2.3]}))
    model = build.build_model(load_law("chinchilla"), runs, "student_t")
    [obs] = model.observed_RVs
    assert type(obs.owner.op).__name__.startswith("CustomDist")
    ops = {str(v.owner.op).lower() for v in pytensor.graph.ancestors([model.logp()]) if v.owner is not None}
    assert "log" in ops and not any("log1p" in op for op in ops)
