"""Simulated runs with known truth: one entry point (bs.simulate = bs.datasets.synthetic)."""

from __future__ import annotations

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.data.synthetic import checkpoint_design, chinchilla_design, log_grid, simulate
from tests.helpers import CHINCHILLA_TRUTH


def test_one_implementation_under_every_public_name():
    assert bs.simulate is simulate and bs.datasets.synthetic is simulate and bs.synthetic.simulate is simulate


def test_noise_free_runs_are_the_law_and_the_truth_is_attached():
    frame = simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(20, seed=1), noise=0.0)
    t = CHINCHILLA_TRUTH
    expected = t["E"] + t["A"] / frame["N"] ** t["alpha"] + t["B"] / frame["D"] ** t["beta"]
    np.testing.assert_allclose(frame["loss"], expected, rtol=1e-12)
    assert frame.attrs["truth"] == {"law": "chinchilla", "params": t, "noise": 0.0, "seed": 0, "df": None}


def test_noise_is_multiplicative_and_seeded():
    design = chinchilla_design(400, seed=2)
    a = simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.02, seed=5)
    b = simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.02, seed=5)
    clean = simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.0)
    np.testing.assert_array_equal(a["loss"], b["loss"])
    assert np.std(np.log(a["loss"] / clean["loss"])) == pytest.approx(0.02, rel=0.15)
    heavy = simulate("chinchilla", CHINCHILLA_TRUTH, design, noise=0.02, seed=5, df=2.0)
    assert heavy.attrs["truth"]["df"] == 2.0


def test_groups_and_checkpoints():
    fam = simulate("chinchilla", CHINCHILLA_TRUTH, 10, groups={"a": {}, "b": {"alpha": 0.3}}, seed=3)
    assert list(fam["group"].unique()) == ["a", "b"] and len(fam) == 20
    assert fam.attrs["truth"]["groups"]["b"]["params"]["alpha"] == 0.3
    ck = simulate("kaplan_ns", {"alpha_N": 0.076, "alpha_S": 0.76, "Nc": 6.5e13, "Sc": 2.1e3},
                  checkpoint_design(3, 5), noise=0.0, checkpoints={"run_sd": 0.05}, seed=1)
    effects = ck.attrs["truth"]["run_effects"]
    assert set(effects) == set(ck["run"]) and ck.attrs["truth"]["run_sd"] == 0.05


def test_bad_requests_say_what_is_wrong():
    with pytest.raises(ValueError, match="missing true value"):
        simulate("chinchilla", {"E": 1.7}, 5)
    with pytest.raises(ValueError, match="constrained positive"):
        simulate("chinchilla", {**CHINCHILLA_TRUTH, "A": -1.0}, 5)
    with pytest.raises(ValueError, match="lacks input column 'D'"):
        simulate("chinchilla", CHINCHILLA_TRUTH, {"N": [1e8, 1e9]})
    with pytest.raises(ValueError, match="unknown parameter"):
        simulate("chinchilla", CHINCHILLA_TRUTH, 5, groups={"x": {"gamma": 1.0}})
    with pytest.raises(ValueError, match="'run' column"):
        simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(5), checkpoints=True)


def test_log_grid():
    np.testing.assert_allclose(log_grid(1e3, 1e6, 4), [1e3, 1e4, 1e5, 1e6])
