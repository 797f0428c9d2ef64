import numpy as np
import pytest
import xarray as xr

import bayes_scaling as bs
from tests.helpers import mock_fit


def test_save_load_predict_identical(tmp_path, chinchilla_mock_fit):
    fit = chinchilla_mock_fit
    path = fit.save(tmp_path / "fit.nc")
    again = bs.load_fit(path)
    for kind in ("mean", "predictive"):
        a = fit.predict(N=[7e10, 1e9], D=[1.4e12, 3e10], kind=kind)
        b = again.predict(N=[7e10, 1e9], D=[1.4e12, 3e10], kind=kind)
        assert a.equals(b)
    assert again.runs == fit.runs
    assert again.law.to_json() == fit.law.to_json()
    assert again.diagnostics == fit.diagnostics
    assert again.likelihood == fit.likelihood and again.settings == fit.settings
    assert set(again.posterior.children) == {"posterior", "sample_stats", "observed_data", "constant_data"}
    assert fit.summary().equals(again.summary())
    # the pointwise log-likelihood is not written (most of the file); recomputed, it is the same
    assert "log_likelihood" in fit.posterior.children
    restored = again.with_log_likelihood().posterior["log_likelihood"].to_dataset()
    xr.testing.assert_allclose(restored, fit.posterior["log_likelihood"].to_dataset(), rtol=1e-12)


def test_saved_file_is_netcdf_without_pickle(tmp_path, chinchilla_mock_fit):
    path = chinchilla_mock_fit.save(tmp_path / "fit.nc")
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # HDF5 / NetCDF4 signature
    import h5netcdf

    with h5netcdf.File(path, "r") as f:
        attrs = dict(f["bayes_scaling"].attrs)
    assert "law_spec" in attrs and "versions" in attrs and "runs_sha256" in attrs


def test_runs_with_groups_and_custom_index_round_trip(tmp_path):
    fit = mock_fit(n_runs=30)
    data = fit.runs.data.copy()
    data.index = [f"run-{i}" for i in range(len(data))]
    data["group"] = ["a", "b", "<script>"] * 10
    runs = bs.Runs(data=data, columns=fit.runs.columns, derived=fit.runs.derived,
                   flops_per_token=fit.runs.flops_per_token, units=fit.runs.units)
    fit = bs.Fit(**{**fit.__dict__, "runs": runs})
    again = bs.load_fit(fit.save(tmp_path / "g.nc"))
    assert list(again.runs.data.index) == list(data.index)
    assert list(again.runs.data["group"]) == list(data["group"])


def test_load_rejects_other_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        bs.load_fit(tmp_path / "missing.nc")
    import xarray as xr

    xr.Dataset({"x": ("a", np.arange(3.0))}).to_netcdf(tmp_path / "other.nc", engine="h5netcdf")
    with pytest.raises(ValueError, match="not a bayes_scaling fit"):
        bs.load_fit(tmp_path / "other.nc")


def test_a_fit_saved_without_log_likelihood_computes_it_after_loading(tmp_path):
    fit = mock_fit(n_runs=20)
    expected = fit.posterior["log_likelihood"]["log_loss_obs"].values
    del fit.posterior["log_likelihood"]
    again = bs.load_fit(fit.save(tmp_path / "fit.nc"))
    assert "log_likelihood" not in again.posterior.children
    np.testing.assert_allclose(again.with_log_likelihood().posterior["log_likelihood"]["log_loss_obs"].values,
                               expected, rtol=1e-12)


def test_model_checks_and_the_likelihood_choice_round_trip(tmp_path):
    import dataclasses

    fit = mock_fit(likelihood="normal")
    fit = dataclasses.replace(fit, diagnostics=dataclasses.replace(fit.diagnostics, checks=["tails"]),
                              settings={**fit.settings, "likelihood_choice": "auto: why"})
    back = bs.load_fit(fit.save(tmp_path / "f.nc"))
    assert back.diagnostics.checks == ["tails"] and back.settings["likelihood_choice"] == "auto: why"
    assert back.likelihood == "normal"


def test_why_rows_were_dropped_survives_save_and_load(tmp_path, chinchilla_mock_fit):
    from dataclasses import replace

    from bayes_scaling.data.drops import record_drop

    runs = record_drop(chinchilla_mock_fit.runs, "the loader's cleaning option x (why)", [3, 7])
    fit = replace(chinchilla_mock_fit, runs=runs)
    back = bs.load_fit(fit.save(tmp_path / "f.nc"))
    assert back.runs.drops == (("the loader's cleaning option x (why)", (3, 7)),) and back.runs == runs
