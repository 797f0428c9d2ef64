"""The fit record: what every layer above the posterior takes; it never changes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.posterior.record import FitRecord, summary_names
from bayes_scaling.pymc_model.structure import Structure
from tests.helpers import mock_fit


def test_fit_is_a_record_and_a_record_keeps_its_class():
    fit = mock_fit()
    assert isinstance(fit, FitRecord) and isinstance(fit, bs.Fit)
    record = FitRecord(**{f.name: getattr(fit, f.name) for f in dataclasses.fields(FitRecord)})
    assert repr(record).startswith("<FitRecord chinchilla") and repr(fit).startswith("<Fit chinchilla")
    assert type(record.with_log_likelihood()) is FitRecord
    assert type(bs.Fit.from_record(record)) is bs.Fit and bs.Fit.from_record(fit) is fit


def test_with_log_likelihood_returns_a_new_record_and_leaves_this_one_alone():
    fit = mock_fit()
    assert fit.with_log_likelihood() is fit  # already has it
    tree = fit.posterior.copy()
    del tree["log_likelihood"]
    bare = dataclasses.replace(fit, posterior=tree)
    full = bare.with_log_likelihood()
    assert "log_likelihood" in full.posterior.children and "log_likelihood" not in bare.posterior.children
    np.testing.assert_allclose(full.posterior["log_likelihood"]["log_loss_obs"].values,
                               fit.posterior["log_likelihood"]["log_loss_obs"].values)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.likelihood = "normal"


def test_observed_ranges_and_summary_names():
    fit = mock_fit(n_runs=30)
    ranges = fit.observed_ranges()
    assert set(ranges) == {"N", "D", "C"}
    assert ranges["C"] == (fit.runs.values("C").min(), fit.runs.values("C").max())
    law = bs.load_law("chinchilla")
    assert summary_names(law, "normal", Structure()) == [*law.parameters, "sigma"]
    grouped = summary_names(law, "student_t", Structure(varying=("alpha",), groups=("a", "b"), run_effect=True))
    assert grouped == [*law.parameters, "alpha_mu", "alpha_tau", "run_sd", "sigma", "nu"]


def test_the_fit_seed_makes_predictive_draws_reproducible():
    fit = mock_fit()
    a = fit.predict(N=1e9, D=2e10, kind="predictive")
    b = fit.predict(N=1e9, D=2e10, kind="predictive")
    assert a.equals(b) and fit.seed_or(None) == 0 and fit.seed_or(5) == 5


def test_thin_keeps_evenly_spaced_draws_and_the_class():
    fit = mock_fit()  # 4 chains x 250 draws
    thin = fit.thin(200)
    assert type(thin) is type(fit) and thin.posterior["posterior"].sizes == {"chain": 4, "draw": 50}
    e = fit.posterior["posterior"]["E"].values
    np.testing.assert_array_equal(thin.posterior["posterior"]["E"].values, e[:, ::5])
    assert fit.thin(5000) is fit
