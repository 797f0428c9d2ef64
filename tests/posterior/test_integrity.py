"""The fit file's integrity record and atomic save (bayes_scaling.posterior.integrity, io)."""

from __future__ import annotations

import json
import os
import warnings

import numpy as np
import pytest
import xarray as xr

import bayes_scaling as bs
from bayes_scaling.posterior import io
from bayes_scaling.posterior.integrity import DIGEST_KEY, tree_digest
from tests.helpers import mock_fit


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    fit = mock_fit(draws=20)
    return fit, fit.save(tmp_path_factory.mktemp("fit") / "fit.nc")


def _edited(path, tmp_path, edit):
    """A copy of the fit file with one stored part changed (written without a new digest)."""
    with xr.open_datatree(path, engine="h5netcdf") as opened:
        tree = opened.load()
    edit(tree)
    out = tmp_path / "edited.nc"
    tree.to_netcdf(out, engine="h5netcdf")
    return out


def _formula(tree):
    spec = json.loads(tree["bayes_scaling"].attrs["law_spec"])
    spec["formula"] = spec["formula"].replace("E +", "(E + 1) +", 1)
    tree["bayes_scaling"].attrs["law_spec"] = json.dumps(spec)


def _posterior(tree):
    ds = tree["posterior"].to_dataset()
    tree["posterior"] = xr.DataTree(ds.assign(E=ds["E"] * 1.0001))


def _settings(tree):
    tree["bayes_scaling"].attrs["settings"] = json.dumps({"sampler": "edited"})


def _sample_stats(tree):
    ds = tree["sample_stats"].to_dataset()
    tree["sample_stats"] = xr.DataTree(ds.assign(diverging=~ds["diverging"]))


def _loss(tree):
    ds = tree["observed_data"].to_dataset()
    name = next(iter(ds.data_vars))
    tree["observed_data"] = xr.DataTree(ds.assign({name: ds[name] + 0.01}))


@pytest.mark.parametrize("edit", [_formula, _posterior, _settings, _sample_stats, _loss])
def test_editing_any_stored_part_is_detected(saved, tmp_path, edit):
    path = _edited(saved[1], tmp_path, edit)
    with pytest.raises(bs.FitFileError, match="do not match its integrity record") as info:
        bs.load_fit(path)
    assert str(path) in str(info.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bs.load_fit(path, verify=False)
    assert any(issubclass(w.category, bs.FitFileWarning) for w in caught)


def test_an_unedited_file_verifies_and_the_digest_is_canonical(saved):
    fit, path = saved
    with xr.open_datatree(path, engine="h5netcdf") as opened:
        tree = opened.load()
    assert tree["bayes_scaling"].attrs[DIGEST_KEY] == tree_digest(tree)
    again = bs.load_fit(path)
    assert again.predict(N=1e9, D=2e10).equals(fit.predict(N=1e9, D=2e10))


@pytest.mark.parametrize("damage, match", [
    (lambda p: p.write_bytes(p.read_bytes()[:2000]), "not a readable fit file"),
    (lambda p: p.write_bytes(os.urandom(5000)), "not a readable fit file"),
    (lambda p: p.write_text(""), "not a readable fit file"),
])
def test_damaged_files_are_named(saved, tmp_path, damage, match):
    path = tmp_path / "damaged.nc"
    path.write_bytes(saved[1].read_bytes())
    damage(path)
    with pytest.raises(bs.FitFileError, match=match) as info:
        bs.load_fit(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("drop", ["law_spec", "diagnostics", "settings"])
def test_a_missing_record_is_named(saved, tmp_path, drop):
    path = _edited(saved[1], tmp_path, lambda t: t["bayes_scaling"].attrs.pop(drop))
    with pytest.raises(bs.FitFileError, match=f"'{drop}' record"):
        bs.load_fit(path, verify=False)


def test_a_failed_save_leaves_the_old_fit_and_no_partial_file(saved, tmp_path, monkeypatch):
    fit, _ = saved
    path = fit.save(tmp_path / "fit.nc")
    before = path.read_bytes()

    def full_disk(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(type(path), "write_bytes", full_disk)
    with pytest.raises(OSError, match="No space left"):
        fit.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fit.nc"]
    assert bs.load_fit(path).predict(N=1e9, D=2e10).equals(fit.predict(N=1e9, D=2e10))


def test_old_format_files_still_load():
    """A format-1 file (no integrity record) loads as before: only its runs table has a checksum."""
    fit = bs.load_fit(io.Path(__file__).parents[1] / "data" / "fit_format1_chinchilla.nc")
    assert np.isfinite(fit.predict(N=1e9, D=2e10)["loss_median"]).all()
