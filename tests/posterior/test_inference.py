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


def _traces(divergences):
    """Stand-ins for the sampler: a trace per call, with the given number of divergences."""
    from tests.helpers import CHINCHILLA_TRUTH, mock_posterior

    runs = mock_fit().runs
    law = bs.load_law("chinchilla")
    calls = []

    def run_sampler(spec, runs_, likelihood, settings, structure, disc):
        tree = mock_posterior(law, runs, CHINCHILLA_TRUTH, divergences=divergences[len(calls)], seed=len(calls))
        calls.append(settings)
        out = settings.resolved()
        out.timings.update(sample=1.0)
        return tree, out

    return runs, run_sampler, calls


def test_a_flagged_first_run_is_sampled_again_with_the_remedy(monkeypatch):
    runs, sampler, calls = _traces([40, 0])
    monkeypatch.setattr(inference, "run_sampler", sampler)
    trace, used, note = inference._sample(None, runs, "student_t", SamplerSettings(seed=3), None, None)
    assert len(calls) == 2 and calls[1].target_accept == 0.98 and calls[1].tune == 2000 and calls[1].draws == 2000
    assert "the first run was FAIL (40 divergent transitions)" in note and "remedy=False" in note
    assert used.timings["first_sample"] == 1.0


def test_no_remedy_for_a_clean_run_or_when_asked_not_to(monkeypatch):
    runs, sampler, calls = _traces([0, 0])
    monkeypatch.setattr(inference, "run_sampler", sampler)
    assert inference._sample(None, runs, "student_t", SamplerSettings(seed=3), None, None)[2] == ""
    runs, sampler, calls = _traces([40, 0])
    monkeypatch.setattr(inference, "run_sampler", sampler)
    assert inference._sample(None, runs, "student_t", SamplerSettings(seed=3, remedy=False), None, None)[2] == ""
    assert len(calls) == 1
    with pytest.raises(ValueError, match="remedy must be True or False"):
        SamplerSettings(remedy="yes").validate()
