"""The backtest's splits (more cases in test_backtest.py, through ``backtest.split_runs``)."""

import pytest

from bayes_scaling import InputError
from bayes_scaling.checks.splits import split_runs
from tests.helpers import mock_fit


def test_fraction_holds_out_the_largest_compute_and_ties():
    runs = mock_fit().runs
    folds, info = split_runs(runs, "compute", 0.25)
    train, held = folds["all"]
    assert len(train) + len(held) == len(runs) and len(held) >= round(0.25 * len(runs))
    assert train.values("C").max() < held.values("C").min()
    assert info["by"] == "C" and info["threshold"] == train.values("C").max()


def test_group_split_needs_groups():
    with pytest.raises(InputError, match="needs a 'group' column"):
        split_runs(mock_fit().runs, "group", None)
