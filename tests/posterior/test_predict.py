import numpy as np
import pytest

from tests.helpers import CHINCHILLA_TRUTH, mock_fit


def _law(N, D, t=CHINCHILLA_TRUTH):
    return t["E"] + t["A"] / N ** t["alpha"] + t["B"] / D ** t["beta"]


def test_mean_prediction_is_the_law_over_draws(chinchilla_mock_fit):
    fit = chinchilla_mock_fit
    out = fit.predict(N=[7e10, 1e9], D=[1.4e12, 2e10], prob=0.9)
    assert list(out.columns) == ["N", "D", "C", "loss_median", "loss_lower", "loss_upper",
                                 "decades_beyond_data"]
    post = fit.posterior["posterior"]
    direct = (post["E"] + post["A"] / 7e10 ** post["alpha"] + post["B"] / 1.4e12 ** post["beta"]).values
    np.testing.assert_allclose(out.loc[0, "loss_median"], np.median(direct), rtol=1e-12)
    np.testing.assert_allclose(out.loc[0, ["loss_lower", "loss_upper"]].to_numpy(float),
                               np.quantile(direct, [0.05, 0.95]), rtol=1e-12)
    assert (out["loss_lower"] < out["loss_median"]).all() and (out["loss_median"] < out["loss_upper"]).all()
    np.testing.assert_allclose(out["loss_median"], _law(out["N"], out["D"]), rtol=0.02)


def test_derives_D_from_C_and_N(chinchilla_mock_fit):
    a = chinchilla_mock_fit.predict(N=7e10, C=6 * 7e10 * 1.4e12)
    b = chinchilla_mock_fit.predict(N=7e10, D=1.4e12)
    np.testing.assert_allclose(a["D"], 1.4e12)
    np.testing.assert_allclose(a["loss_median"], b["loss_median"], rtol=1e-12)


def test_predictive_is_wider_than_mean_and_reproducible():
    fit = mock_fit(rel_sd=0.002)  # law uncertainty well below the 1% run-to-run noise
    mean = fit.predict(N=1e9, D=2e10)
    pred = fit.predict(N=1e9, D=2e10, kind="predictive")
    assert (pred["loss_upper"] - pred["loss_lower"]).iloc[0] > 1.5 * (mean["loss_upper"] - mean["loss_lower"]).iloc[0]
    assert pred.equals(fit.predict(N=1e9, D=2e10, kind="predictive"))
    assert not pred.equals(fit.predict(N=1e9, D=2e10, kind="predictive", seed=99))


def test_decades_beyond_data(chinchilla_mock_fit):
    fit = chinchilla_mock_fit
    n_max = fit.runs.values("N").max()
    out = fit.predict(N=[n_max / 10, n_max * 100], D=[fit.runs.values("D").min() * 2] * 2)
    assert out.loc[0, "decades_beyond_data"] == pytest.approx(0.0, abs=1e-9) or out.loc[0, "decades_beyond_data"] >= 0
    assert out.loc[1, "decades_beyond_data"] >= 2 - 1e-9


def test_predict_draws_shape(chinchilla_mock_fit):
    da = chinchilla_mock_fit.predict_draws(N=[1e9, 1e10, 1e11], D=2e10)
    assert da.dims == ("chain", "draw", "point") and da.shape == (4, 250, 3)


@pytest.mark.parametrize("kwargs, message", [
    ({"N": 1e9}, r"needs input\(s\) \['D'\]"),
    ({"N": -1.0, "D": 1e9}, "input 'N' must be finite and > 0"),
    ({"N": [1e9, 2e9], "D": [1e9, 2e9, 3e9]}, "one common length"),
    ({"N": 1e9, "D": 1e9, "step": 3}, "takes no input"),
    ({"N": 1e9, "D": 1e9, "kind": "posterior"}, "kind must be one of"),
    ({"N": 1e9, "D": 1e9, "prob": 1.5}, r"prob must be in \(0, 1\)"),
])
def test_bad_prediction_requests(chinchilla_mock_fit, kwargs, message):
    with pytest.raises(ValueError, match=message):
        chinchilla_mock_fit.predict(**kwargs)


def test_normal_likelihood_prediction():
    fit = mock_fit(likelihood="normal")
    out = fit.predict(N=1e9, D=2e10, kind="predictive")
    assert out.loc[0, "loss_lower"] < out.loc[0, "loss_upper"]


def test_log_likelihood_in_small_blocks_equals_one_block(monkeypatch):
    import bayes_scaling.posterior.predict as predict

    fit = mock_fit(n_runs=30)
    whole = predict.log_likelihood(fit.law, fit.posterior, fit.runs, fit.likelihood)["log_loss_obs"].values
    monkeypatch.setattr(predict, "LOG_LIKELIHOOD_CHUNK", 7 * 1000)  # 1000 draws: blocks of 7 rows, last one short
    blocks = predict.log_likelihood(fit.law, fit.posterior, fit.runs, fit.likelihood)["log_loss_obs"].values
    assert blocks.shape == (4, 250, 30)
    np.testing.assert_array_equal(blocks, whole)
    np.testing.assert_array_equal(whole, fit.posterior["log_likelihood"]["log_loss_obs"].values)


def test_standardized_residuals_at_the_posterior_medians():
    import xarray as xr

    import bayes_scaling as bs
    from bayes_scaling.data.synthetic import checkpoint_design
    from bayes_scaling.posterior.predict import standardized_residuals
    from bayes_scaling.pymc_model.structure import resolve_structure
    from tests.helpers import simulate_checkpoints

    fit = mock_fit(n_runs=30)
    post = fit.posterior["posterior"].to_dataset().median(("chain", "draw"))
    d = fit.runs.data
    mu = (float(post["E"]) + float(post["A"]) * d["N"].to_numpy() ** -float(post["alpha"])
          + float(post["B"]) * d["D"].to_numpy() ** -float(post["beta"]))
    np.testing.assert_allclose(standardized_residuals(fit.law, fit.posterior, fit.runs),
                               (np.log(d["loss"].to_numpy()) - np.log(mu)) / float(post["sigma"]), rtol=1e-10)
    # with run effects: each row's run offset is part of the fit
    ns = {"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}
    runs = bs.load_runs(simulate_checkpoints("kaplan_ns", ns, checkpoint_design(3, 8), run_sd=0.03, noise=0.01,
                                             seed=4))
    law = bs.load_law("kaplan_ns")
    st = resolve_structure(runs, law)
    effects = np.array([0.02, -0.01, 0.03])
    values = {k: (("chain", "draw"), np.full((2, 5), v)) for k, v in {**ns, "sigma": 0.01}.items()}
    values["run_effect"] = (("chain", "draw", "run"), np.broadcast_to(effects, (2, 5, 3)))
    tree = xr.DataTree()
    tree["posterior"] = xr.DataTree(xr.Dataset(values, coords={"run": list(st.runs)}))
    d = runs.data
    law_value = (ns["Nc"] / d["N"].to_numpy()) ** ns["alpha_N"] + (ns["Sc"] / d["step"].to_numpy()) ** ns["alpha_S"]
    offset = effects[[list(st.runs).index(r) for r in d["run"].astype(str)]]
    np.testing.assert_allclose(standardized_residuals(law, tree, runs, st),
                               (np.log(d["loss"].to_numpy()) - np.log(law_value) - offset) / 0.01, rtol=1e-9)


def test_implausible_inputs_are_warned_and_kept():
    import pytest

    import bayes_scaling as bs
    from tests.helpers import mock_fit

    fit = mock_fit(draws=20)
    with pytest.warns(bs.DecisionWarning, match=r"input 'N' is 7 at position\(s\) \[0\]: wrong units"):
        out = fit.predict(N=[7, 7e9], D=[1.4e12, 1.4e12])
    assert list(out["N"]) == [7, 7e9]


@pytest.mark.parametrize("law_name", ["kaplan_ns", "chinchilla"])
def test_per_row_predictions_on_a_checkpoint_table_equal_the_row_by_row_ones(monkeypatch, law_name):
    """The law on each input's distinct values, taken to the rows (as in the model), gives the same log
    mean for every draw and row, the same run offsets and the same log-likelihood as row by row."""
    import bayes_scaling as bs
    from bayes_scaling.data.synthetic import checkpoint_design
    from bayes_scaling.law.spec import load_law
    from bayes_scaling.posterior import predict
    from bayes_scaling.pymc_model import gathered
    from bayes_scaling.pymc_model.structure import resolve_structure
    from tests.helpers import mock_posterior

    design = checkpoint_design(40, 60)
    truth = {"alpha_N": 0.077, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3}
    if law_name == "chinchilla":
        design, truth = design.assign(D=design["step"] * 2e5), CHINCHILLA_TRUTH
    runs = bs.load_runs(bs.simulate(law_name, truth, design, noise=0.01, seed=1, checkpoints={"run_sd": 0.03}))
    law = load_law(law_name)
    structure = resolve_structure(runs, law, None, None)
    tree = mock_posterior(law, runs, truth, chains=2, draws=40, likelihood="normal")
    tree["posterior"]["run_sd"] = tree["posterior"]["sigma"] * 3.0
    post = tree["posterior"].to_dataset()
    out, backends, log_value = [], [], predict.log_value
    monkeypatch.setattr(predict, "log_value", lambda *a: backends.append(a[3:]) or log_value(*a))
    for min_rows in (gathered.MIN_ROWS, 10**9):
        monkeypatch.setattr(gathered, "MIN_ROWS", min_rows)
        monkeypatch.setattr(predict, "LOG_LIKELIHOOD_CHUNK", 80 * 700)  # several blocks of 700 rows
        blocks = list(predict._log_mean_blocks(law, post, runs, structure))
        assert len(blocks) == 4 and blocks[-1][0].stop == len(runs)
        effects = predict.run_effect_draws(law, tree, runs, structure, seed=3).values
        out.append((np.concatenate([mu for _, mu in blocks], axis=-1), effects))
    assert backends == [(gathered.NUMPY_GATHERED_OPS,)] * 8 + [()] * 8  # 4 blocks, twice per pass
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-9, atol=1e-12)


def test_run_sums_in_segments_and_by_bins_agree_with_a_plain_loop():
    from bayes_scaling.posterior.predict import _run_sums

    rng = np.random.default_rng(4)
    resid = rng.normal(size=(2, 3, 50))
    by_run = np.sort(rng.choice([0, 2, 3, 6], size=50))  # stored run by run; runs 1, 4, 5 have no rows
    for ridx in (by_run, rng.permutation(by_run)):
        want = np.zeros((2, 3, 7))
        for i, r in enumerate(ridx):
            want[..., r] += resid[..., i]
        np.testing.assert_allclose(_run_sums(resid, ridx, 7), want, rtol=1e-12, atol=1e-12)
