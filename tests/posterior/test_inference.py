"""fit() without a sampler: grouped options (old keywords still accepted), the refit seam, fit_options."""

from __future__ import annotations

import dataclasses

import pytest

import bayes_scaling as bs
from bayes_scaling.posterior import inference
from bayes_scaling.pymc_model.sampling import SamplerSettings
from bayes_scaling.pymc_model.structure import Structure, StructureOptions
from tests.helpers import mock_fit


def test_old_flat_keywords_land_in_the_grouped_records():
    structure, sampling = inference._grouped_options(
        None, SamplerSettings(draws=50), 3, {"tune": 20, "chains": 2, "pooled": ["E"], "run_scale": 0.1})
    assert structure == StructureOptions(pooled=["E"], run_scale=0.1)
    assert (sampling.draws, sampling.tune, sampling.chains, sampling.seed) == (50, 20, 2, 3)


def test_unknown_keywords_are_refused_with_the_ones_allowed():
    with pytest.raises(TypeError, match="unexpected keyword argument.*'drawz'.*sampler settings: sampler, draws"):
        bs.fit(mock_fit().runs, "chinchilla", drawz=10)


def test_fit_options_reproduce_the_fit():
    fit = mock_fit()
    fit = dataclasses.replace(fit, settings={"seed": 4, "draws": 300, "tune": 400, "chains": 2, "cores": None,
                                             "sampler": "nutpie", "target_accept": 0.9, "adaptation": "diag"},
                              structure=Structure(varying=("E",), groups=("a", "b"), group_scale=0.3))
    options = inference.fit_options(fit)
    assert options["law"] is fit.law and options["likelihood"] == fit.likelihood
    assert options["pooled"] == ["E"] and options["group_scale"] == 0.3 and options["drop_first"] == 0
    assert {k: options[k] for k in ("seed", "draws", "tune", "chains", "adaptation")} == {
        "seed": 4, "draws": 300, "tune": 400, "chains": 2, "adaptation": "diag"}
    assert "cores" not in options and options["discrepancy"] is None


def test_refit_is_fit_without_a_progress_bar(monkeypatch):
    seen = {}

    def fake_fit(runs, law, **kwargs):
        seen.update(kwargs, runs=runs, law=law)
        return "fitted"

    monkeypatch.setattr(inference, "fit", fake_fit)
    runs = mock_fit().runs
    assert inference.refit(runs, "chinchilla", seed=1) == "fitted"
    assert seen["progress"] is False and seen["seed"] == 1 and seen["runs"] is runs
    inference.refit(runs, "chinchilla", progress=True)
    assert seen["progress"] is True
