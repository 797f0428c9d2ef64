"""The structural term (a GP on the law's residuals): learned where the law is off, silent where it is not."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import optimize

import bayes_scaling as bs
from bayes_scaling.data.synthetic import chinchilla_design
from bayes_scaling.posterior import inference, structural
from bayes_scaling.posterior.structural import Structural, coordinates, log_coordinates
from tests.helpers import CHINCHILLA_TRUTH, mock_posterior


def _fit(frame, seed=0):
    """A mock law-only fit of the runs (posterior near the truth), then its structural term."""
    law = bs.load_law("chinchilla")
    runs = bs.load_runs(frame)
    tree = mock_posterior(law, runs, CHINCHILLA_TRUTH, rel_sd=0.002, sigma=0.005, seed=seed)
    fit = bs.Fit(posterior=tree, runs=runs, law=law, likelihood="student_t", settings={"seed": seed},
                 diagnostics=None)
    return fit, inference.with_structural(fit)


def _bumpy(frame, size=0.03):
    """The law off by a smooth function of tokens per parameter (as real runs are)."""
    out = frame.copy()
    out["loss"] *= np.exp(size * np.tanh(np.log10(out["D"] / out["N"]) - 1.3))
    return out


@pytest.fixture(scope="module")
def design():
    return chinchilla_design(150, seed=4)


def test_coordinates_are_compute_and_tokens_per_parameter():
    x = coordinates(("N", "D"), 6.0, {"N": np.array([1e9]), "D": np.array([2e10])})
    np.testing.assert_allclose(x, [[np.log10(1.2e20), np.log10(20.0)]])
    x3 = log_coordinates(("N", "D", "U"), 6.0, {"N": np.log(1e9), "D": np.log(2e10), "U": np.log(1e10)})
    np.testing.assert_allclose(x3, [np.log10(1.2e20), np.log10(20.0), 10.0])
    np.testing.assert_allclose(coordinates(("N", "step"), 6.0, {"N": [1e8], "step": [1e3]}), [[8.0, 3.0]])


def test_true_law_residuals_give_a_negligible_term(design):
    frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.005, seed=2)
    plain, fit = _fit(frame)
    assert fit.structural.eta < 0.005  # white residuals: no structure to speak of
    far = {"N": [2e10, 7e10], "D": [4e11, 1.4e12]}  # up to 1.5 decades beyond the runs
    w_plain = plain.predict(**far).pipe(lambda t: t.loss_upper - t.loss_lower)
    w_fit = fit.predict(**far).pipe(lambda t: t.loss_upper - t.loss_lower)
    assert (w_fit / w_plain).max() < 1.25


def test_a_law_that_is_off_gets_a_term_that_follows_it_and_widens(design):
    clean = bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.003, seed=3)
    plain, fit = _fit(_bumpy(clean))
    assert fit.structural.eta > 0.01
    probe = chinchilla_design(40, seed=9)
    truth = _bumpy(bs.simulate("chinchilla", CHINCHILLA_TRUTH, probe, noise=0.0))["loss"].to_numpy()
    err_plain = np.abs(plain.predict(N=probe.N, D=probe.D)["loss_median"] / truth - 1)
    err_fit = np.abs(fit.predict(N=probe.N, D=probe.D)["loss_median"] / truth - 1)
    assert np.median(err_fit) < 0.5 * np.median(err_plain)
    far = fit.predict(N=1e12, D=2e13)  # 2 decades beyond: the term's variance has come back
    near = fit.predict(N=1e9, D=2e10)
    log_width = lambda t: np.log(t.loss_upper / t.loss_lower).iloc[0]  # noqa: E731
    assert log_width(far) > 2 * log_width(near)


def test_one_function_per_draw_the_same_in_every_call(design):
    _, fit = _fit(_bumpy(bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.003, seed=3)))
    term = fit.structural
    a = fit.structural_draws({"N": [1e9, 3e9], "D": [2e10, 5e10]})
    b = fit.structural_draws({"N": [1e9], "D": [2e10]})
    assert a.shape == (4, 250, 2)
    np.testing.assert_allclose(a[..., 0], b[..., 0], rtol=1e-10, atol=1e-15)
    weights = term.weight_draws(1000, fit.seed_or(None))
    x = coordinates(term.columns, term.flops_per_token, {"N": [3e9], "D": [5e10]})
    np.testing.assert_allclose(term.evaluate(weights, np.repeat(x, 1000, axis=0)), a[..., 1].ravel())
    again = Structural.from_dict(term.to_dict())
    np.testing.assert_allclose(again.draws({"N": [1e9], "D": [2e10]}, 10, 1), term.draws({"N": [1e9], "D": [2e10]},
                                                                                           10, 1))


def test_decisions_carry_the_term(design):
    plain, fit = _fit(_bumpy(bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.003, seed=3)))
    a_plain, a_fit = plain.allocate([1e22]), fit.allocate([1e22])
    assert a_plain.attrs["method"] == "closed_form" and a_fit.attrs["method"] == "numeric"
    assert a_fit["n_not_interior"].iloc[0] < 50
    assert not np.isclose(a_fit["N_opt_median"].iloc[0], a_plain["N_opt_median"].iloc[0], rtol=0.02)
    with pytest.raises(ValueError, match="structural term is not of the Chinchilla form"):
        fit.allocate([1e22], method="closed_form")
    p_plain = plain.prob_below(2.2, N=3e9, D=6e10)["prob_below"].iloc[0]
    p_fit = fit.prob_below(2.2, N=3e9, D=6e10)["prob_below"].iloc[0]
    assert p_plain != p_fit
    from bayes_scaling.decisions.optimum import EXPLORED_MARGIN, search_bounds

    tpp = fit.runs.values("D") / fit.runs.values("N")
    lo, hi = search_bounds(fit)
    assert np.isclose(lo, tpp.min() / 10**EXPLORED_MARGIN) and np.isclose(hi, tpp.max() * 10**EXPLORED_MARGIN)
    assert search_bounds(plain) == (1e-3, 1e7)


def test_the_map_gradient_is_right():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, (30, 2))
    r = 0.01 * np.sin(x[:, 0]) + 0.002 * rng.standard_normal(30)
    w = rng.uniform(0.3, 1.0, 30)
    theta = np.array([0.2, -0.3, np.log(0.01), np.log(0.003)])
    value, grad = structural._neg_log_posterior(theta, x, r, w)
    numeric = optimize.approx_fprime(theta, lambda t: structural._neg_log_posterior(t, x, r, w)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_the_map_runs_on_one_blas_thread_and_leaves_the_setting_as_it_was(monkeypatch):
    """Small matrices (at most MAP_ROWS square): a second BLAS thread cost more than it gained."""
    from threadpoolctl import threadpool_info

    def blas_threads():
        return {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}

    seen, solve = [], structural._map_hyperparameters
    monkeypatch.setattr(structural, "_map_hyperparameters", lambda *a, **k: (seen.append(blas_threads()),
                                                                            solve(*a, **k))[1])
    before = blas_threads()
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 3, (40, 2))
    theta = structural._robust_map(x, 0.01 * np.sin(x[:, 0]) + 0.002 * rng.standard_normal(40), 0.002, None)
    assert np.all(np.isfinite(theta)) and len(seen) == 1 + structural.ROBUST_PASSES
    assert all(s == {1} for s in seen) and blas_threads() == before


def test_auto_resolves_and_names_its_reason():
    assert inference.resolve_discrepancy("auto", 100)[0] == "modular"
    assert inference.resolve_discrepancy("auto", 5)[0] is None
    assert inference.resolve_discrepancy(None, 100) == (None, "as requested: the law's form is trusted")
    with pytest.raises(bs.DiscrepancyError, match="discrepancy must be one of"):
        inference.resolve_discrepancy("spline", 100)


def test_the_record_is_unchanged_by_its_term(design):
    frame = _bumpy(bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.003, seed=3))
    plain, fit = _fit(frame)
    assert fit.structural is not None and plain.structural is None
    assert dataclasses.replace(fit, structural=None).posterior is plain.posterior  # the law's posterior as it was


def test_decisions_widen_where_the_law_is_off_and_not_where_it_is_true(design):
    def width(fit):  # two decades beyond the largest run
        a = fit.allocate([100 * fit.runs.compute().max()]).iloc[0]
        return np.log(a["loss_opt_upper"] / a["loss_opt_lower"]), np.log(a["N_opt_upper"] / a["N_opt_lower"])

    true_plain, true_fit = _fit(bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.005, seed=2))
    off_plain, off_fit = _fit(_bumpy(bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.003, seed=3)))
    (tl, tn), (tl0, tn0) = width(true_fit), width(true_plain)
    (ol, on), (ol0, on0) = width(off_fit), width(off_plain)
    assert tl < 1.25 * tl0 + 0.002 and tn < 1.25 * tn0 + 0.05  # the law is true: about as wide
    assert ol > 2 * ol0 and on > 2 * on0  # the law is off: the decision says how unsure that makes it


def test_shared_points_take_one_matrix_product_with_the_same_answer(design):
    _, fit = _fit(_bumpy(bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.003, seed=3)))
    term = fit.structural
    weights = term.weight_draws(50, 1)[:, None, :]  # (S, 1, J)
    x = coordinates(term.columns, term.flops_per_token, {"N": [1e9, 3e9, 1e10], "D": [2e10, 5e10, 1e12]})
    slow = term.eta * (term._phi(np.broadcast_to(x, (50, 3, x.shape[1]))) * weights).sum(axis=-1)
    np.testing.assert_allclose(term.evaluate(weights, x), slow, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(term.evaluate(weights, x[None]), slow, rtol=1e-10, atol=1e-14)
