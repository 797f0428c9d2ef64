"""The GP model discrepancy: its checks, its orthogonality to the law, one basis for the model and
for predictions, and the decisions that refuse it (no sampler)."""

import dataclasses

import numpy as np
import pytest
import xarray as xr

import bayes_scaling as bs
from bayes_scaling.pymc_model.discrepancy import Discrepancy, _jacobian, check, f_draws, projected_basis
from bayes_scaling.pymc_model.structure import Structure
from tests.helpers import CHINCHILLA_TRUTH, mock_fit


def _disc(fit) -> Discrepancy:
    logs = np.log10(np.column_stack([fit.runs.values("N"), fit.runs.values("D")]))
    centre = logs.mean(axis=0)
    return Discrepancy(inputs=("N", "D"), centre=tuple(centre), half_width=tuple(2.5 * np.abs(logs - centre).max(0)),
                       m=8, mode=dict(CHINCHILLA_TRUTH))


def _with_discrepancy(fit, scale=0.01, seed=0):
    """The mock fit with a discrepancy and draws of its basis weights."""
    disc = _disc(fit)
    tree = fit.posterior.copy()
    post = tree["posterior"].to_dataset()
    rng = np.random.default_rng(seed)
    post["gp_weights"] = (("chain", "draw", "gp_k"), scale * rng.standard_normal((*post["sigma"].shape, 64)))
    post["gp_ls"] = (("chain", "draw", "gp_ls_dim_0"), np.exp(0.1 * rng.standard_normal((*post["sigma"].shape, 2))))
    post["gp_eta"] = (("chain", "draw"), 0.02 * np.exp(0.1 * rng.standard_normal(post["sigma"].shape)))
    tree["posterior"] = xr.DataTree(post)
    del tree["log_likelihood"]  # the law's alone: recomputed with the discrepancy when asked for
    return dataclasses.replace(fit, posterior=tree, discrepancy=disc)


def test_unsupported_discrepancies_are_refused_by_name():
    chin = bs.load_law("chinchilla")
    check(None, chin, None)
    check("gp", chin, Structure())
    with pytest.raises(ValueError, match=r"discrepancy must be one of \(None, 'gp'\), got 'spline'"):
        check("spline", chin, None)
    with pytest.raises(ValueError, match="1 or 2 inputs; 'data_constrained' has 3 \\(N, D, U\\)"):
        check("gp", bs.load_law("data_constrained"), None)
    with pytest.raises(ValueError, match="run effects"):
        check("gp", chin, Structure(run_effect=True, runs=("a", "b")))


def test_the_basis_is_orthogonal_to_the_law_and_one_for_model_and_predictions():
    fit = mock_fit(n_runs=40)
    disc = _disc(fit)
    train = {c: fit.runs.values(c) for c in ("N", "D")}
    basis, omega = projected_basis(fit.law, disc, train)
    assert basis.shape == (40, 64) and omega.shape == (64, 2)
    jac = _jacobian(fit.law, disc, train)
    assert jac.shape == (40, 5) and np.linalg.matrix_rank(jac) == 5
    # f cannot move along any direction a change of the law's parameters could
    assert np.abs(jac.T @ basis).max() < 1e-8 * np.abs(jac).max() * np.abs(basis).max() * 40
    # the prediction path (basis at given inputs) is the model's path at the fitted runs
    again, _ = projected_basis(fit.law, disc, train, train)
    np.testing.assert_allclose(again, basis, rtol=1e-12, atol=1e-14)
    # the Jacobian is the law's: a small step of alpha moves log L by J[:, alpha] * dlog(alpha)
    from bayes_scaling.posterior.predict import log_mean_draws

    post = xr.Dataset({k: (("chain", "draw"), [[v, v * (k != "alpha") + v * np.exp(1e-4) * (k == "alpha")]])
                       for k, v in CHINCHILLA_TRUTH.items()})
    post["sigma"] = (("chain", "draw"), [[1.0, 1.0]])
    mu = log_mean_draws(fit.law, post, train)[0]
    np.testing.assert_allclose((mu[1] - mu[0]) / 1e-4, jac[:, list(fit.law.parameters).index("alpha")], rtol=1e-3)


def test_predictions_and_log_likelihood_carry_the_discrepancy():
    plain = mock_fit(n_runs=40)
    fit = _with_discrepancy(plain)
    new = {"N": np.array([1e9, 1e11]), "D": np.array([2e10, 2e12])}
    f = f_draws(fit.law, fit.discrepancy, fit.posterior["posterior"].to_dataset(),
                {c: fit.runs.values(c) for c in ("N", "D")}, new)
    assert f.shape == (4, 250, 2)
    with_f = fit.predict_draws(N=new["N"], D=new["D"]).values
    without = plain.predict_draws(N=new["N"], D=new["D"]).values
    np.testing.assert_allclose(np.log(with_f) - np.log(without), f, rtol=1e-10, atol=1e-12)
    assert "gp_ls" in fit.summary().index.get_level_values(0).astype(str).str.cat()
    ll = fit.with_log_likelihood().posterior["log_likelihood"]["log_loss_obs"]
    ll_plain = plain.posterior["log_likelihood"]["log_loss_obs"]
    assert ll.shape == ll_plain.shape and not np.allclose(ll.values, ll_plain.values)
    from bayes_scaling.posterior.predict import log_likelihood

    by_hand = log_likelihood(fit.law, fit.posterior, fit.runs, fit.likelihood,
                             offset=fit.discrepancy_draws({c: fit.runs.values(c) for c in ("N", "D")}))
    np.testing.assert_allclose(ll.values, by_hand["log_loss_obs"].values)


def test_decisions_refuse_a_fit_with_a_discrepancy_and_the_report_says_why(tmp_path):
    from bayes_scaling.report import report_context

    fit = _with_discrepancy(mock_fit(n_runs=40))
    for call in (lambda: fit.allocate(1e24), lambda: fit.prob_below(2.0, N=1e10, D=2e11),
                 lambda: fit.compute_for_target(2.0)):
        with pytest.raises(ValueError, match="model discrepancy"):
            call()
    ctx = report_context(fit, plots=False)
    assert "allocation" not in ctx and any("model discrepancy" in c for c in ctx["caveats"])
    assert "<li>C = " not in fit._repr_html_() and "GP model discrepancy" in fit._repr_html_()
    assert repr(fit).startswith("<Fit chinchilla + GP discrepancy: 40 runs")
    back = bs.load_fit(fit.save(tmp_path / "f.nc"))
    assert back.discrepancy == fit.discrepancy
    np.testing.assert_allclose(back.predict(N=1e11, D=2e12)["loss_median"], fit.predict(N=1e11, D=2e12)["loss_median"])


def test_predictions_beyond_the_basis_box_are_refused_by_column():
    from bayes_scaling import DiscrepancyError
    from bayes_scaling.pymc_model.discrepancy import VALID, check_inputs

    fit = _with_discrepancy(mock_fit(n_runs=40))
    disc = fit.discrepancy
    edge = 10 ** (disc.centre[1] + VALID * disc.half_width[1])  # the largest D it describes
    check_inputs(disc, {"N": np.array([10 ** disc.centre[0]]), "D": np.array([0.99 * edge])})
    with pytest.raises(DiscrepancyError, match=r"D = .* lies outside the range where this fit's discrepancy"):
        fit.predict(N=10 ** disc.centre[0], D=1.01 * edge)
    # inside the fitted runs' own range there is always room
    fit.predict(N=fit.runs.values("N"), D=fit.runs.values("D"))
