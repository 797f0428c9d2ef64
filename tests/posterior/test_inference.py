"""fit() without a sampler: grouped options (old keywords still accepted), the refit seam, fit_options."""

from __future__ import annotations

import dataclasses
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.posterior import diagnostics, inference
from bayes_scaling.pymc_model._warm import WarmStart
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


def _traces(divergences, run_sd=None):
    """Stand-ins for the sampler: a trace per call, with the given number of divergences."""
    from tests.helpers import CHINCHILLA_TRUTH, mock_posterior

    runs = mock_fit().runs
    law = bs.load_law("chinchilla")
    calls = []

    def run_sampler(spec, runs_, likelihood, settings, structure, disc):
        tree = mock_posterior(law, runs, CHINCHILLA_TRUTH, divergences=divergences[len(calls)], seed=len(calls))
        if run_sd is not None and structure.run_effect:
            post = tree["posterior"].to_dataset()
            tree["posterior"] = type(tree)(post.assign(run_sd=post["sigma"] * 0 + run_sd))
        calls.append((settings, structure) if run_sd is not None else settings)
        out = settings.resolved()
        out.timings.update(sample=1.0)
        return tree, out

    return runs, run_sampler, calls


def test_a_flagged_first_run_is_sampled_again_with_the_remedy(monkeypatch):
    runs, sampler, calls = _traces([40, 0])
    monkeypatch.setattr(inference, "run_sampler", sampler)
    trace, used, note, structure, conflict, diag = inference._sample(None, runs, "student_t",
                                                                      SamplerSettings(seed=3), None, None)
    assert structure is None and conflict == "" and diag is None  # the remedied trace is diagnosed by fit()
    assert len(calls) == 2 and calls[1].target_accept == 0.98 and calls[1].tune == 2000 and calls[1].draws == 2000
    assert "the first run was FAIL (40 divergent transitions)" in note and "remedy=False" in note
    assert used.timings["first_sample"] == 1.0


def test_no_remedy_for_a_clean_run_or_when_asked_not_to(monkeypatch):
    runs, sampler, calls = _traces([0, 0])
    monkeypatch.setattr(inference, "run_sampler", sampler)
    out = inference._sample(None, runs, "student_t", SamplerSettings(seed=3), None, None)
    assert out[2] == "" and out[5].ok and out[5].divergences == 0  # the first run's diagnosis, reused by fit()
    runs, sampler, calls = _traces([40, 0])
    monkeypatch.setattr(inference, "run_sampler", sampler)
    assert inference._sample(None, runs, "student_t", SamplerSettings(seed=3, remedy=False), None, None)[2] == ""
    assert len(calls) == 1
    with pytest.raises(ValueError, match="remedy must be True or False"):
        SamplerSettings(remedy="yes").validate()


def test_the_remedy_follows_the_first_runs_problems_and_model(monkeypatch):
    """After a Laplace start with disagreeing chains, the remedy keeps its coordinates and doubles its
    tuning and draws; when the run offsets are dropped it starts from the asked settings instead."""
    first = SimpleNamespace(ok=False, verdict="warn", problems=["R-hat of run_effect is 1.012 > 1.01: x"],
                            divergences=0)
    monkeypatch.setattr(inference, "diagnose", lambda trace, names: first)
    for run_sd, tune, target in ((0.03, 800, 0.8), (0.21, 2000, 0.98)):
        runs, sampler, calls = _traces([0, 0], run_sd=run_sd)

        def laplace_first(*args, sampler=sampler, calls=calls):
            tree, out = sampler(*args)
            made = WarmStart(mean=np.zeros(2), chol=np.eye(2), source="laplace")
            return tree, (replace(out, start="laplace", tune=400, adaptation="diag", target_accept=0.8,
                                  warm_start=made) if len(calls) == 1 else out)

        monkeypatch.setattr(inference, "run_sampler", laplace_first)
        asked = Structure(run_effect=True, runs=("a", "b"), run_centered=True, run_scale=0.05)
        _, used, note, _, _, _ = inference._sample(None, runs, "student_t", SamplerSettings(seed=3, draws=500,
                                                start="laplace"), asked, None)
        again = calls[1][0]
        assert (again.tune, again.target_accept, again.draws) == (tune, target, 1000)
        assert (again.adaptation == "diag") == (run_sd == 0.03) and f"tune={tune}" in note


@pytest.mark.parametrize("run_sd, dropped", [(0.21, True), (0.12, False)])
def test_run_offsets_that_conflict_with_the_law_are_dropped_by_the_remedy(monkeypatch, run_sd, dropped):
    """Issue 15 (gemstones): run offsets 4x their prior's scale took over the law's size term and the
    sampler failed; the remedy samples again without them and says why. At 2.4x they are kept."""
    from bayes_scaling.pymc_model.structure import Structure

    runs, sampler, calls = _traces([40, 0], run_sd=run_sd)
    monkeypatch.setattr(inference, "run_sampler", sampler)
    asked = Structure(run_effect=True, runs=("a", "b"), run_centered=True, run_scale=0.05)
    _, _, note, structure, conflict, _ = inference._sample(None, runs, "student_t", SamplerSettings(seed=3), asked,
                                                           None)
    assert calls[0][1] is asked and calls[1][1] is structure
    if dropped:
        assert not structure.run_effect and structure.runs == () and "without run offsets" in note
        assert conflict.startswith("the run offsets' scale run_sd = 0.21 is 4x its prior's (0.05")
    else:
        assert structure is asked and conflict == "" and "without run offsets" not in note


@pytest.mark.parametrize("divergences", [[0], [40, 0]])
def test_fit_diagnoses_the_posterior_once_unless_it_was_sampled_again(monkeypatch, divergences):
    """The first run's diagnosis is the fit's when it is kept (the same draws: 0.1 s of a 1.5 s refit);
    a remedied run is diagnosed afresh."""
    runs, sampler, calls = _traces(divergences)
    monkeypatch.setattr(inference, "run_sampler", sampler)
    seen = []

    def counted(tree, names):
        seen.append(list(names))
        return diagnostics.diagnose(tree, names)

    monkeypatch.setattr(inference, "diagnose", counted)
    fit = inference.fit(runs, "chinchilla", seed=3, discrepancy=None, log_likelihood=False)
    assert len(seen) == len(divergences)  # the first run, and the remedied one when there is one
    assert fit.diagnostics == diagnostics.diagnose(fit.posterior, seen[-1])
