"""Checkpoint tables before a fit: warm-up dropping and Kaplan's S_min (bayes_scaling.data.checkpoints)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.data.checkpoints import drop_warmup, to_s_min


def _checkpoints(n_runs=3, steps=10):
    frame = pd.DataFrame({"run": np.repeat([f"r{i}" for i in range(n_runs)], steps),
                          "N": np.repeat(np.geomspace(1e7, 1e9, n_runs), steps),
                          "step": np.tile(np.geomspace(1e2, 1e5, steps), n_runs)})
    frame["loss"] = 2.0 + 50 / frame["N"] ** 0.2 + 20 / frame["step"] ** 0.3
    return frame.sample(frac=1.0, random_state=0)  # rows in any order: warm-up is by step


def test_drop_warmup_drops_the_first_steps_of_each_run_and_counts_them():
    runs = bs.load_runs(_checkpoints())
    kept = drop_warmup(runs, 0.2)
    assert len(kept) == 24 and kept.dropped == 6
    first_two = runs.data.groupby("run")["step"].nsmallest(2).reset_index(level=0)["step"]
    assert not set(first_two).intersection(kept.data["step"].round(6))
    assert list(kept.data.index) == [i for i in runs.data.index if i in kept.data.index]  # order kept
    assert drop_warmup(runs, 0.0) is runs


def test_drop_warmup_refuses_bad_fractions_and_checkpoints_without_steps():
    runs = bs.load_runs(_checkpoints())
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="fraction must be in"):
            drop_warmup(runs, bad)
    with pytest.raises(ValueError, match="needs column 'step'"):
        drop_warmup(bs.load_runs(_checkpoints().drop(columns="step").assign(D=1e9)), 0.1)


def test_to_s_min_uses_batch_size():
    frame = pd.DataFrame({"run": ["r"] * 3, "N": 1e8, "step": [1e3, 1e4, 1e5], "B": 5e5, "loss": [4.0, 3.5, 3.0]})
    runs = bs.load_runs(frame)
    out = to_s_min(runs)
    b_crit = 2.1e8 / frame["loss"] ** (1 / 0.21)
    np.testing.assert_allclose(out.values("step"), frame["step"] / (1 + b_crit / 5e5))
    assert "S_min" in out.derived["step"]
    with pytest.raises(ValueError, match="needs column 'B'"):
        to_s_min(bs.load_runs(frame.drop(columns="B")))
