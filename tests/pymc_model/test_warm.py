"""The warm start of a refit (bayes_scaling.pymc_model._warm): the posterior's shape from its draws
(fast), and a warm refit against a cold fit on the same data (slow)."""

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import chinchilla_design
from bayes_scaling.pymc_model import _warm, sampling
from tests.helpers import CHINCHILLA_TRUTH


def test_shape_from_draws_is_their_mean_and_covariance_factor():
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.8, 0.0], [0.8, 1.0, -0.3], [0.0, -0.3, 0.5]]) * 1e-4
    x = rng.multivariate_normal([0.5, -1.0, 2.0], cov, size=(4, 2000))
    state = _warm.from_draws(x)
    np.testing.assert_allclose(state.mean, [0.5, -1.0, 2.0], atol=2e-3)
    np.testing.assert_allclose(state.chol @ state.chol.T, cov, atol=1e-5)
    assert np.allclose(state.chol, np.tril(state.chol))
    # draws of a warm fit are in its own coordinates z: mapped back through the start it used
    z = np.linalg.solve(state.chol, (x - state.mean)[..., None])[..., 0]
    again = _warm.from_draws(z, used=state)
    np.testing.assert_allclose(again.mean, state.mean, atol=1e-12)
    np.testing.assert_allclose(again.chol, state.chol, rtol=1e-8, atol=1e-12)


def test_many_parameters_or_few_draws_give_a_diagonal_factor():
    rng = np.random.default_rng(1)
    wide = _warm.from_draws(rng.normal(scale=2.0, size=(2, 400, _warm.DENSE_MAX + 1)))
    assert np.count_nonzero(wide.chol - np.diag(np.diag(wide.chol))) == 0
    np.testing.assert_allclose(np.diag(wide.chol), 2.0, rtol=0.15)
    few = _warm.from_draws(rng.normal(size=(1, 9, 5)))  # 9 draws cannot estimate a 5 x 5 covariance
    assert np.count_nonzero(few.chol - np.diag(np.diag(few.chol))) == 0


@pytest.mark.slow
def test_a_warm_refit_samples_the_same_posterior_with_less_tuning(tmp_path, monkeypatch):
    monkeypatch.setenv("BAYES_SCALING_CACHE", str(tmp_path / "cache"))
    design = chinchilla_design(40, seed=5)
    frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.01, seed=5)
    runs = bs.load_runs(frame)
    cold = bs.fit(runs, law="chinchilla", seed=1, progress=False)
    assert cold.warm_state is not None and cold.warm_state.n_dim == 7 and "warm_start" not in cold.settings
    warm = bs.fit(bs.load_runs(frame.drop(index=[0, 1])), law="chinchilla", seed=2, progress=False,
                  warm_start=cold)  # the what-if loop: two runs dropped
    assert warm.settings["warm_start"].startswith("used") and warm.settings["tune"] == _warm.WARM_TUNE
    assert warm.diagnostics.ok, warm.diagnostics.problems
    a, b = bs.fit(bs.load_runs(frame.drop(index=[0, 1])), law="chinchilla", seed=1, progress=False).summary(), \
        warm.summary()
    z = (a["median"] - b["median"]).abs() / np.hypot(a["mcse_mean"], b["mcse_mean"])
    assert (z < 5).all(), z
    assert (b["ess_bulk"] >= 400).all()
    # its structural term started from the previous one's hyperparameters and found the same
    np.testing.assert_allclose(warm.structural.ls, cold.structural.ls, rtol=0.05)

    # where it cannot be used, the fit is cold, with a full tuning, and says why
    other = bs.fit(runs, law="kaplan_nd", seed=3, progress=False, warm_start=cold, draws=200, remedy=False)
    assert other.settings["warm_start"].startswith("not used: the previous fit's parameters (E_log__, alpha_log__")
    assert other.settings["tune"] == 1000
    sampling.clear_cache()  # else the compiled model in memory is reused, whatever compile_cache says
    stock = bs.fit(runs, law="chinchilla", seed=4, discrepancy=None, remedy=False,
                   sampling=bs.SamplerSettings(progress=False, warm_start=cold, draws=200, compile_cache=False))
    sampling.clear_cache()
    assert "without the disk compile cache" in stock.settings["warm_start"] and stock.settings["tune"] == 1000
    loaded = bs.load_fit(cold.save(tmp_path / "fit.nc"))
    again = bs.fit(runs, law="chinchilla", seed=5, progress=False, warm_start=loaded, draws=200, discrepancy=None,
                   remedy=False)
    assert again.settings["warm_start"].startswith("not used: the previous fit carries no posterior shape")
    assert again.settings["tune"] == 1000
    with pytest.raises(bs.InputTypeError, match="warm_start must be a previous fit"):
        bs.fit(runs, law="chinchilla", warm_start="fit.nc")


@pytest.mark.slow
def test_a_model_with_many_parameters_keeps_its_full_tuning(tmp_path, monkeypatch):
    """Run offsets (36 runs: more than SHORT_MAX parameters): the short tuning is not safe there."""
    from bayes_scaling.data.synthetic import checkpoint_design
    from tests.helpers import simulate_checkpoints

    monkeypatch.setenv("BAYES_SCALING_CACHE", str(tmp_path / "cache"))
    ns = {"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}
    runs = bs.load_runs(simulate_checkpoints("kaplan_ns", ns, checkpoint_design(36, 6), seed=2))
    first = bs.fit(runs, law="kaplan_ns", seed=1, progress=False, draws=200, tune=300, discrepancy=None,
                   remedy=False)
    assert first.warm_state.n_dim > _warm.SHORT_MAX
    again = bs.fit(runs, law="kaplan_ns", seed=2, progress=False, draws=200, discrepancy=None, remedy=False,
                   warm_start=first)
    assert again.settings["tune"] == 1000
    assert again.settings["warm_start"].endswith(f"(the full tuning: more than {_warm.SHORT_MAX} parameters)")
    assert np.count_nonzero(first.warm_state.chol - np.diag(np.diag(first.warm_state.chol))) == 0
