"""Rules across columns and rows (bayes_scaling.data.consistency): label types, checkpoints, inputs,
implausible values."""

from __future__ import annotations

import pandas as pd
import pytest

import bayes_scaling as bs


def test_implausible_sizes_are_warned_not_changed():
    frame = pd.DataFrame({"N": [7.0, 70.0, 1e9], "D": [1.4e12, 2e12, 2e10], "loss": [2.0, 1.9, 2.5]})
    text = r"column 'N' has values below 1000 or above 1e\+15 at rows 0 and 1 .*7B is 7e9"
    with pytest.warns(bs.RunsWarning, match=text):
        runs = bs.load_runs(frame)
    assert list(runs.values("N")) == [7.0, 70.0, 1e9]
    with pytest.warns(bs.RunsWarning, match="column 'D' has values below 100000 at row 0"):
        bs.load_runs(frame.assign(N=1e9, D=[5e4, 1e9, 2e9]))


def test_checkpoints_in_order_pass():
    ck = pd.DataFrame({"run": ["a", "a", "b", "b"], "step": [1.0, 2.0, 1.0, 2.0], "N": [1e8] * 4,
                       "D": [1e9, 2e9, 1e9, 2e9], "loss": [3.0, 2.9, 3.1, 3.0]})
    assert len(bs.load_runs(ck)) == 4


def test_the_b_crit_law_takes_loss_as_its_input():
    runs = bs.load_runs(pd.DataFrame({"B_crit": [1e5, 2e5], "loss": [3.0, 2.5]}))
    assert list(runs.data.columns) == ["loss", "B_crit"]
