"""Interval columns, the default probability and the distance beyond the data (one home)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import bayes_scaling as bs
from bayes_scaling.core.intervals import (
    DEFAULT_PROB,
    check_prob,
    decades_beyond,
    decades_beyond_ranges,
    interval_columns,
    quantile_bands,
)


def test_interval_columns_are_equal_tailed_quantiles():
    draws = np.random.default_rng(0).normal(size=(4000, 3))
    cols = interval_columns("x", draws, 0.9)
    np.testing.assert_allclose(cols["x_median"], np.quantile(draws, 0.5, axis=0))
    np.testing.assert_allclose(cols["x_lower"], np.quantile(draws, 0.05, axis=0))
    np.testing.assert_allclose(cols["x_upper"], np.quantile(draws, 0.95, axis=0))


def test_interval_columns_leave_nan_out_and_keep_infinity():
    draws = np.array([[1.0, np.inf], [2.0, np.inf], [np.nan, np.inf], [3.0, 1.0]])
    cols = interval_columns("c", draws, 0.5)
    assert cols["c_median"][0] == 2.0  # the NaN draw is left out
    assert np.isinf(cols["c_median"][1]) and np.isinf(cols["c_upper"][1])


def test_quantile_bands_agree_with_interval_columns():
    draws = np.random.default_rng(1).lognormal(size=(2, 500, 4))
    med, bands = quantile_bands(draws, (0.5, 0.9))
    cols = interval_columns("v", draws.reshape(-1, 4), 0.9)
    np.testing.assert_allclose(med, cols["v_median"])
    np.testing.assert_allclose(bands[0.9][0], cols["v_lower"])
    assert set(bands) == {0.5, 0.9} and (bands[0.5][0] >= bands[0.9][0]).all()


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, True, float("nan")])
def test_prob_must_be_in_the_open_unit_interval(bad):
    with pytest.raises(ValueError, match="prob must be in"):
        check_prob(bad)


def test_decades_beyond():
    np.testing.assert_allclose(decades_beyond([1e20, 1e22, 1e18], 1e19, 1e21), [0, 1, 1])
    beyond = decades_beyond_ranges({"N": np.array([1e9, 1e12]), "D": np.array([1e10, 1e10])},
                                   {"N": (1e8, 1e10), "D": (1e9, 1e11), "C": (1, 2)})
    np.testing.assert_allclose(beyond, [0, 2])


def test_the_default_probability_is_one_constant_used_everywhere():
    assert DEFAULT_PROB == 0.9
    for method in ("predict", "summary", "allocate", "compare_plans", "compare_groups", "rank_groups", "report"):
        assert inspect.signature(getattr(bs.Fit, method)).parameters["prob"].default is DEFAULT_PROB


def test_interval_table_shows_each_interval_in_one_cell_and_stays_plain_pandas():
    import pandas as pd

    from bayes_scaling.core.intervals import IntervalTable, as_table, compact_intervals

    frame = pd.DataFrame({"C": [1e22, 5.76e23], "N_opt_median": [6.6e9, 4.67e10], "N_opt_lower": [6.0e9, 4.1e10],
                          "N_opt_upper": [7.2e9, 5.3e10], "ess_bulk": [3881.4483, 2000.2], "r_hat": [1.0041, 1.0]})
    frame.attrs["prob"] = 0.9
    table = as_table(frame)
    assert isinstance(table, IntervalTable) and isinstance(table, pd.DataFrame) and table.attrs == {"prob": 0.9}
    pd.testing.assert_frame_equal(pd.DataFrame(table), frame)  # every column, the same data
    text = repr(table)
    assert "4.67e+10 (4.1e+10–5.3e+10)" in text and "N_opt_median" not in text.splitlines()[0]
    assert "3881" in text and "3881.4483" not in text and "1.004" in text
    assert "[90% intervals shown as median (lower–upper)" in text and "N_opt_median, N_opt_lower" in text
    assert "4.67e+10 (4.1e+10–5.3e+10)" in table._repr_html_()
    for derived in (table[["C"]], table.copy(), table * 2, table.head(1), pd.concat([table, table])):
        assert type(derived) is pd.DataFrame  # only the result itself is shown compactly
    assert list(compact_intervals(table).columns) == ["C", "N_opt", "ess_bulk", "r_hat"]
    assert "intervals shown" not in repr(as_table(frame[["C"]]))  # no interval, no note


def test_fit_results_are_interval_tables(chinchilla_mock_fit):
    from bayes_scaling.core.intervals import IntervalTable

    fit = chinchilla_mock_fit
    for result in (fit.predict(N=1e9, D=2e10), fit.summary(), fit.allocate(C=1e22), fit.prob_below(2.5, N=1e9, D=2e10)):
        assert isinstance(result, IntervalTable)
