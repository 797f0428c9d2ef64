"""The report's tables: formatted strings, intervals in one cell."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayes_scaling.report.tables import interval_cell, interval_table, table


def test_table_formats_every_cell_and_keeps_the_index_on_request():
    frame = pd.DataFrame({"C": [1e23, 1e24], "n": [3, 12345]}, index=pd.Index(["a", "b"], name="law"))
    out = table(frame, index=True)
    assert out["header"] == ["law", "C", "n"]
    assert out["rows"] == [["a", "1e+23", "3"], ["b", "1e+24", "12,345"]]


def test_interval_table_puts_median_and_interval_in_one_cell():
    frame = pd.DataFrame({"C": [1e23], "N_opt_median": [3.2e10], "N_opt_lower": [2.5e10], "N_opt_upper": [4.1e10],
                          "n_not_interior": [0]})
    out = interval_table(frame, ["C"], ["N_opt"], ["n_not_interior"], rename={"N_opt": "N"})
    assert list(out.columns) == ["C", "N", "n_not_interior"]
    assert out.loc[0, "N"] == "3.2e+10 (2.5e+10–4.1e+10)" == interval_cell(frame.iloc[0], "N_opt")
    assert interval_cell({"x_median": np.nan, "x_lower": 1.0, "x_upper": np.inf}, "x") == "– (1–∞)"
