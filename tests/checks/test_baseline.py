"""The Huber + bootstrap baseline of Hoffmann et al. 2022 and Epoch AI 2024 (for comparison only)."""

from __future__ import annotations

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.checks.baseline import HOFFMANN_GRID, huber_bootstrap, huber_fit, huber_grid_fit
from bayes_scaling.data.synthetic import chinchilla_design
from tests.helpers import CHINCHILLA_TRUTH


@pytest.fixture(scope="module")
def clean():
    frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(60, seed=2), noise=0.002, seed=2)
    return frame["N"].to_numpy(), frame["D"].to_numpy(), frame["loss"].to_numpy()


def test_warm_started_fit_recovers_the_truth(clean):
    p = huber_fit(*clean, init=CHINCHILLA_TRUTH)
    assert p["E"] == pytest.approx(1.69, rel=0.05) and p["alpha"] == pytest.approx(0.34, rel=0.15)


def test_screened_grid_fit_finds_the_optimum(clean):
    p = huber_grid_fit(*clean, n_starts=3)
    pred = p["E"] + p["A"] / clean[0] ** p["alpha"] + p["B"] / clean[1] ** p["beta"]
    assert np.median(np.abs(pred / clean[2] - 1)) < 0.005
    with pytest.raises(ValueError, match="'screened' or 'full'"):
        huber_grid_fit(*clean, grid="coarse")


def test_bootstrap_is_one_row_per_resample(clean):
    boot = huber_bootstrap(*clean, n_boot=5, seed=1, init=CHINCHILLA_TRUTH)
    assert list(boot.columns) == ["E", "A", "B", "alpha", "beta"] and len(boot) == 5
    assert boot["E"].std() > 0  # resamples differ
    assert np.prod([len(v) for v in HOFFMANN_GRID.values()]) == 4500  # Hoffmann et al.'s grid
