"""The demo's data: the embedded Chinchilla runs, and the budgets it predicts at."""

from __future__ import annotations

import numpy as np

import bayes_scaling as bs
from bayes_scaling.cli.demo import DEMO_BUDGETS, DEMO_TOKENS_PER_PARAM, demo_points, demo_runs


def test_demo_runs_are_the_shipped_file():
    frame = demo_runs()
    assert {"N", "D", "loss"} <= set(frame.columns) and len(frame) >= 20
    assert frame.attrs["source"].endswith("demo_chinchilla.csv")


def test_demo_points_are_multiples_of_the_largest_compute_at_20_tokens_per_parameter():
    runs = bs.load_runs(demo_runs()[["N", "D", "loss"]])
    points = demo_points(runs)
    assert list(points["budget"]) == [f"{b:g}x" for b in DEMO_BUDGETS]
    c = 6 * points["N"] * points["D"]
    np.testing.assert_allclose(c / runs.compute().max(), DEMO_BUDGETS)
    np.testing.assert_allclose(points["D"] / points["N"], DEMO_TOKENS_PER_PARAM)
