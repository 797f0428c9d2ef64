"""Sampler settings: validated, resolved (seed recorded), and the fit's own defaults for None."""

from __future__ import annotations

import pytest

from bayes_scaling.pymc_model.sampling import SamplerSettings


def test_resolved_fills_seed_cores_and_the_plain_defaults():
    s = SamplerSettings(chains=2).resolved()
    assert isinstance(s.seed, int) and 1 <= s.cores <= 2
    assert s.tune == 1000 and s.target_accept == 0.9 and s.progress is False
    again = SamplerSettings(seed=7, tune=50, target_accept=0.95, progress=True).resolved()
    assert (again.seed, again.tune, again.target_accept, again.progress) == (7, 50, 0.95, True)
    assert set(again.to_dict()) == {"sampler", "draws", "tune", "chains", "cores", "seed", "adaptation", "start",
                                    "target_accept"}


@pytest.mark.parametrize("field, value, message", [
    ("sampler", "stan", "sampler must be one of"), ("draws", 0, "draws must be a positive integer"),
    ("tune", 2.5, "tune must be a positive integer"), ("chains", True, "chains must be a positive integer"),
    ("target_accept", 1.0, "target_accept must be in"), ("adaptation", "full", "adaptation must be"),
])
def test_bad_settings_are_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        SamplerSettings(**{field: value}).validate()
    SamplerSettings().validate()  # tune and target_accept None: filled in later
