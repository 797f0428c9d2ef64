"""The Laplace start (bayes_scaling.pymc_model._laplace): the mode and curvature of known densities, the
rules for when it is used (fast); a Student-t checkpoint fit with and without it (slow). Its log density
(the compiled C callback) is checked against stock nutpie's in tests/pymc_model/test_compile_cache.py."""

from types import SimpleNamespace

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.core.errors import InputError, SamplerStartError
from bayes_scaling.pymc_model import _laplace, _warm
from bayes_scaling.pymc_model.sampling import SamplerSettings


def _gaussian(H: np.ndarray, m: np.ndarray):
    """``x -> (log density, gradient)`` of N(m, H^-1), up to a constant."""
    return lambda x: (float(-0.5 * (x - m) @ H @ (x - m)), -H @ (x - m))


def _blocked_precision(n_free: int, n_block: int, seed: int = 0) -> np.ndarray:
    """A positive-definite precision whose last ``n_block`` coordinates never meet each other."""
    rng = np.random.default_rng(seed)
    n = n_free + n_block
    H = np.zeros((n, n))
    a = rng.normal(size=(n_free, n_free))
    H[:n_free, :n_free] = a @ a.T + n * np.eye(n_free)
    H[n_free:, n_free:] = np.diag(rng.uniform(50.0, 5e4, n_block))
    cross = rng.normal(size=(n_block, n_free))
    H[n_free:, :n_free], H[:n_free, n_free:] = cross, cross.T
    assert np.linalg.eigvalsh(H).min() > 0
    return H


def test_curvature_with_a_diagonal_block_is_the_precision_from_few_gradients():
    H = _blocked_precision(5, 40)
    m = np.linspace(-1.0, 2.0, 45)
    calls = []
    f = _gaussian(H, m)
    counted = lambda x: calls.append(1) or f(x)  # noqa: E731
    got = _laplace.curvature(counted, m, diagonal=slice(5, 45))
    np.testing.assert_allclose(got, H, rtol=1e-6, atol=1e-6 * np.abs(H).max())
    assert len(calls) == 2 * (5 + 1)  # a pair per free coordinate, one pair for the whole block


def test_curvature_without_a_block_takes_every_column():
    H = _blocked_precision(6, 0, seed=3)
    m = np.arange(6.0)
    np.testing.assert_allclose(_laplace.curvature(_gaussian(H, m), m), H, rtol=1e-6, atol=1e-6)


def test_the_mode_of_a_gaussian_is_its_mean():
    H = _blocked_precision(4, 6, seed=1)
    m = np.linspace(0.5, 3.0, 10)
    sd = np.sqrt(np.diag(np.linalg.inv(H)))
    assert np.all(np.abs(_laplace.mode(_gaussian(H, m), np.zeros(10)) - m) <= 0.05 * sd)  # a start, not an estimate


def test_newton_steps_take_lbfgs_point_to_the_mode_and_stop_there():
    """L-BFGS can stop far out along a flat ridge (at 10^5 rows: 2 sd from the mode); Newton steps with
    the finite-difference curvature finish the job, and leave a point at the mode where it is."""
    H = _blocked_precision(4, 20, seed=5)
    m = np.linspace(-1.0, 1.0, 24)
    sd = np.sqrt(np.diag(np.linalg.inv(H)))
    far = m + 2.0 * sd
    x, got = _laplace.newton(_gaussian(H, m), far, diagonal=slice(4, 24))
    np.testing.assert_allclose(x, m, atol=1e-6 * sd.min())
    np.testing.assert_allclose(got, H, rtol=1e-6, atol=1e-6 * np.abs(H).max())
    calls = []
    counted = lambda x: calls.append(1) or _gaussian(H, m)(x)  # noqa: E731
    x, _ = _laplace.newton(counted, m, diagonal=slice(4, 24))
    assert np.array_equal(x, m) and len(calls) == 2 * 5 + 2  # the curvature, the log density, one gradient


def test_newton_keeps_the_point_when_a_step_does_not_improve():
    """A log density with a kink (|x|): the quadratic model overshoots; the better point is kept."""
    f = lambda x: (float(-np.abs(x).sum() - 0.5 * x @ x), -np.sign(x) - x)  # noqa: E731
    start = np.array([0.3, -0.2])
    x, _ = _laplace.newton(f, start)
    assert f(x)[0] >= f(start)[0]


def _fake_compiled(n_free: int, n_block: int):
    n = n_free + n_block
    names = ["a", "run_effect"] if n_block else ["a"]
    slices = [slice(0, n_free), slice(n_free, n)] if n_block else [slice(0, n)]
    shapes = [(n_free,), (n_block,)] if n_block else [(n,)]
    return SimpleNamespace(n_dim=n, shape_info=(names, slices, shapes))


def test_the_start_maps_standard_normal_onto_the_laplace_approximation(monkeypatch):
    H = _blocked_precision(3, 30, seed=2)
    m = np.linspace(-2.0, 1.0, 33)
    monkeypatch.setattr(_laplace, "log_density", lambda compiled: _gaussian(H, m))
    warm = _laplace.start(_fake_compiled(3, 30), np.zeros(33))
    assert warm.source == "laplace" and warm.layout == (("a", (3,)), ("run_effect", (30,)))
    assert np.all(np.abs(warm.mean - m) <= 0.05 * np.sqrt(np.diag(np.linalg.inv(H))))
    assert np.allclose(warm.chol, np.tril(warm.chol))  # lower-triangular, as the map x = m + L z expects
    np.testing.assert_allclose(warm.chol @ warm.chol.T, np.linalg.inv(H), rtol=1e-4, atol=1e-10)


def test_a_saddle_or_no_mode_is_refused_with_the_reason(monkeypatch):
    saddle = np.diag([1.0, -1.0])
    monkeypatch.setattr(_laplace, "log_density", lambda compiled: _gaussian(saddle, np.zeros(2)))
    monkeypatch.setattr(_laplace, "mode", lambda f, x0: np.zeros(2))
    with pytest.raises(SamplerStartError, match="not positive definite"):
        _laplace.start(_fake_compiled(2, 0), np.zeros(2))
    monkeypatch.undo()
    with pytest.raises(SamplerStartError, match="no mode"):
        _laplace.mode(lambda x: (-np.inf, np.full(2, np.nan)), np.zeros(2))


def test_when_the_laplace_start_is_wanted():
    centred, plain = SimpleNamespace(run_centered=True), SimpleNamespace(run_centered=False)
    big, small = SimpleNamespace(n_dim=_warm.SHORT_MAX + 1), SimpleNamespace(n_dim=_warm.SHORT_MAX)
    assert _laplace.wanted("auto", big, centred)
    assert not _laplace.wanted("auto", small, centred)  # few parameters: nutpie's tuning is quick there
    assert not _laplace.wanted("auto", big, plain)  # non-centred offsets: a funnel, no Gaussian mode
    assert not _laplace.wanted("auto", big, None)
    assert _laplace.wanted("laplace", small, None) and not _laplace.wanted("tune", big, centred)


def test_start_is_validated_and_recorded():
    with pytest.raises(InputError, match="start must be one of"):
        SamplerSettings(start="mode").validate()
    s = SamplerSettings(seed=1).resolved()
    assert s.adaptation == "low_rank" and s.target_accept == 0.9 and s.tune == 1000
    assert s.to_dict()["start"] == "auto"


def test_a_refit_of_a_laplace_fit_chooses_its_own_tuning():
    from bayes_scaling.posterior.inference import fit_options

    settings = {"draws": 500, "tune": 200, "chains": 4, "seed": 3, "sampler": "nutpie", "target_accept": 0.8,
                "adaptation": "diag", "cores": 2, "start": "laplace"}
    record = SimpleNamespace(settings=settings, structure=SimpleNamespace(varying=(), run_effect=True,
                                                                          group_scale=0.2, run_scale=0.05),
                             law="kaplan_ns", likelihood="student_t", discrepancy=None, structural=None)
    out = fit_options(record)
    assert out["start"] == "laplace" and not {"tune", "target_accept", "adaptation"} & set(out)
    out = fit_options(SimpleNamespace(**{**vars(record), "settings": {**settings, "start": "tune"}}))
    assert out["tune"] == 200 and out["target_accept"] == 0.8 and out["adaptation"] == "diag"


@pytest.mark.slow
def test_a_student_t_checkpoint_fit_from_the_laplace_start_matches_nutpies_tuning(tmp_path, monkeypatch):
    """Centred run offsets (30 runs x 20 checkpoints): the default starts from the Laplace approximation
    (its default tuning), converges, and its posterior agrees with nutpie's full low-rank tuning."""
    from bayes_scaling.data.synthetic import checkpoint_design
    from tests.helpers import simulate_checkpoints

    monkeypatch.setenv("BAYES_SCALING_CACHE", str(tmp_path / "cache"))
    ns = {"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}
    runs = bs.load_runs(simulate_checkpoints("kaplan_ns", ns, checkpoint_design(30, 20), seed=4))
    kw = dict(law="kaplan_ns", progress=False, draws=500, discrepancy=None, likelihood="student_t", remedy=False)
    fast = bs.fit(runs, seed=1, **kw)
    assert fast.settings["start"] == "laplace" and fast.settings["tune"] == _laplace.LAPLACE_TUNE
    assert fast.settings["adaptation"] == "diag" and fast.settings["target_accept"] == _laplace.TARGET_ACCEPT
    assert fast.settings["laplace"].startswith(f"laplace: {_laplace.LAPLACE_TUNE} tuning steps")
    assert fast.timings["laplace"] > 0
    assert fast.diagnostics.ok and fast.diagnostics.min_ess_bulk >= 400
    slow = bs.fit(runs, seed=2, start="tune", **kw)
    assert slow.settings["start"] == "tune" and slow.settings["tune"] == 1000 and "laplace" not in slow.settings
    a, b = fast.summary(), slow.summary()
    for p in ("alpha_N", "alpha_S", "run_sd", "sigma"):
        gap = abs(a.loc[p, "median"] - b.loc[p, "median"])
        assert gap <= 5 * np.hypot(a.loc[p, "mcse_mean"], b.loc[p, "mcse_mean"]), p
    # a refit from the fast fit's draws: the Laplace start replaces the previous shape above 30 parameters
    again = bs.fit(runs, seed=3, warm_start=fast, **{**kw, "draws": 200})
    assert again.settings["start"] == "laplace" and again.settings["warm_start"].startswith("not used: the Laplace")


def test_pymcs_sampler_records_that_it_took_no_laplace_start(monkeypatch):
    from bayes_scaling.pymc_model import sampling

    monkeypatch.setattr(sampling, "_sample_pymc", lambda *a, **k: "trace")
    trace, used = sampling.run_sampler(None, [], "student_t", SamplerSettings(sampler="pymc", start="laplace", seed=1))
    assert trace == "trace" and used.start == "tune"
    assert used.warm_note == "laplace not used: PyMC's sampler takes no start"
    _, used = sampling.run_sampler(None, [], "student_t", SamplerSettings(sampler="pymc", seed=1))
    assert used.start == "tune" and used.warm_note == ""


def test_the_remedy_after_a_laplace_start_samples_longer_in_the_same_coordinates():
    """Chains that only disagree get twice the tuning and the draws, at the same step sizes; divergences
    (or a fit that tuned its own coordinates) get the full remedy: 2000 tuning steps, target_accept 0.98."""
    made = _warm.WarmStart(mean=np.zeros(2), chol=np.eye(2), source="laplace")
    laplace = SamplerSettings(seed=1, start="laplace", tune=400, draws=500, target_accept=0.8, adaptation="diag",
                              warm_start=made)
    again = laplace.remedied(0)
    assert (again.tune, again.draws, again.target_accept, again.adaptation, again.start) == (800, 1000, 0.8, "diag",
                                                                                            "laplace")
    asked = SamplerSettings(seed=1, start="laplace", draws=500)  # asked for, not made (the remedy without offsets)
    for s, divergences in ((laplace, 3), (SamplerSettings(seed=1, start="tune", tune=1000, draws=500), 0),
                           (asked, 0)):
        full = s.remedied(divergences)
        assert (full.tune, full.draws, full.target_accept) == (2000, 1000, 0.98)


def test_a_remedys_laplace_start_is_dropped_when_the_model_lost_its_offsets():
    from bayes_scaling.pymc_model import sampling

    old = _warm.WarmStart(mean=np.zeros(5), chol=np.eye(5), layout=(("a", (5,)),), source="laplace")
    same = SimpleNamespace(n_dim=5, shape_info=(["a"], [slice(0, 5)], [(5,)]))
    other = SimpleNamespace(n_dim=3, shape_info=(["a"], [slice(0, 3)], [(3,)]))
    s = SamplerSettings(seed=1, start="laplace", warm_start=old).resolved()
    assert sampling._laplace_start(s, s, same, None) is s  # the same model: the first run's start is kept
    again = sampling._laplace_start(s, s, other, None)
    assert again.warm_start is None and again.start == "tune"  # no map on this model (a stand-in) to redo it


@pytest.mark.parametrize("n_dim, expected", [(37, 0.8), (149, 0.8), (150, 0.75), (207, 0.75), (1007, 0.75)])
def test_the_laplace_starts_target_acceptance_is_lower_from_150_parameters(monkeypatch, n_dim, expected):
    """Where NUTS' 7-step trajectories fall short of the U-turn at 0.8 (about 200 parameters), 0.75 saves
    the 15-step ones (benchmarks/bench_accept.py); an asked target_accept is kept."""
    from bayes_scaling.pymc_model import sampling

    made = _warm.WarmStart(mean=np.zeros(n_dim), chol=np.eye(n_dim), source="laplace")
    monkeypatch.setattr(_warm, "supports", lambda compiled: True)
    monkeypatch.setattr(_laplace, "start", lambda compiled, x0: made)
    compiled = SimpleNamespace(n_dim=n_dim, initial_point_func=lambda seed: np.zeros(n_dim))
    asked = SamplerSettings(seed=1, start="laplace")
    used = sampling._laplace_start(asked.resolved(), asked, compiled, None)
    assert used.start == "laplace" and used.warm_start is made and used.target_accept == expected
    asked = SamplerSettings(seed=1, start="laplace", target_accept=0.9)
    assert sampling._laplace_start(asked.resolved(), asked, compiled, None).target_accept == 0.9


def test_the_mode_search_restarts_lbfgs_when_it_stopped_short(monkeypatch):
    """L-BFGS can stop on a slope (a relative gain under 2e-9 per step); a restart from its result goes
    on, and restarts end once one gains under RESTART_GAIN nats."""
    import scipy.optimize

    precision = np.diag([1e4, 1.0, 1e-2])
    mean = np.array([3.0, -2.0, 50.0])

    def f(x):
        d = x - mean
        return -0.5 * d @ precision @ d, -(precision @ d)

    real, calls = scipy.optimize.minimize, []

    def stopping_early(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1 and short:  # the first run stops after one iteration, far from the mode
            kwargs["options"] = {**kwargs["options"], "maxiter": 1}
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", stopping_early)
    short = True
    x = _laplace.mode(f, np.zeros(3))
    assert np.allclose(x, mean, atol=1e-3) and 3 <= len(calls) <= _laplace.MODE_RUNS
    short, calls[:] = False, []
    assert np.allclose(_laplace.mode(f, np.zeros(3)), mean, atol=1e-3)
    assert len(calls) == 2  # the first run reached the mode; one restart confirms it
