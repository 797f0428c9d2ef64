"""Every dropped row is recorded with its reason (issue 18): dropna, a loader's cleaning, the warm-up."""

import numpy as np
import pandas as pd
import pytest

import bayes_scaling as bs
from bayes_scaling.data.checkpoints import drop_warmup
from bayes_scaling.data.drops import drop_lines, record_drop


def test_dropna_records_the_rows_and_the_reason():
    frame = pd.DataFrame({"N": [1e8, 2e8, np.nan, 4e8], "D": [2e9, 4e9, 6e9, 8e9], "loss": [3.0, 2.9, 2.8, 2.7]})
    with pytest.warns(bs.RunsWarning):
        runs = bs.load_runs(frame, dropna=True)
    assert runs.dropped == 1 and runs.drops == (("dropna=True: missing values", (2,)),)
    assert drop_lines(runs) == ["1 row: dropna=True: missing values (row 2)"]


def test_warmup_and_record_drop_accumulate():
    frame = pd.DataFrame({"run": ["a"] * 10 + ["b"] * 10, "step": list(range(1, 11)) * 2, "N": 1e8,
                          "D": np.tile(np.arange(1, 11) * 1e8, 2), "loss": np.linspace(4, 3, 20)})
    runs = drop_warmup(bs.load_runs(frame), 0.2)
    assert runs.dropped == 4
    (reason, rows), = runs.drops
    assert reason.startswith("checkpoint warm-up: the first 20%") and rows == (0, 1, 10, 11)
    more = record_drop(runs, "by hand", [np.int64(5)])
    assert more.dropped == 5 and more.drops[-1] == ("by hand", (5,)) and type(more.drops[-1][1][0]) is int
    assert record_drop(runs, "nothing", []) is runs
    assert drop_lines(more, with_rows=False) == [f"4 rows: {reason}", "1 row: by hand"]


def test_a_count_without_reasons_says_so():
    from dataclasses import replace

    runs = replace(bs.load_runs(pd.DataFrame({"N": [1e8, 2e8], "D": [2e9, 4e9], "loss": [3.0, 2.9]})), dropped=3)
    assert drop_lines(runs) == ["3 rows: reason not recorded (an older fit file)"]


def test_loader_cleaning_names_its_option():
    from tests.helpers import shared_file

    file = shared_file("chinchilla_epoch", "svg_extracted_data.csv")
    runs = bs.datasets.load("chinchilla_epoch", data_home=file.parents[1], download=False, drop_highest_loss=True)
    (reason, rows), = runs.drops
    assert runs.dropped == 5 and rows == (0, 1, 2, 3, 4)
    assert reason.startswith("the loader's cleaning option drop_highest_loss (Drop the 5 runs with the highest loss")
