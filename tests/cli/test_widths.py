"""The CLI's tables are readable at 100 columns (issue 18): intervals as one "median (lower–upper)"
cell, long tables continued below, long prose lines wrapped."""

import pytest

from bayes_scaling.cli.support import TABLE_WIDTH, format_table, wrapped
from bayes_scaling.core.formatting import interval_text
from tests.cli.test_commands import invoke


@pytest.mark.parametrize("args", [
    ["laws"],
    ["summary", "{fit}"],
    ["predict", "{fit}", "--N", "7e10", "--N", "1e9", "--D", "1.4e12", "--D", "2e10"],
    ["allocate", "{fit}", "--C", "5.76e23", "--C", "1e21", "--C", "1e19"],
    ["recommend", "{fit}", "--C", "5.76e23"],
])
def test_every_line_fits_in_100_columns(saved_fit, args):
    result = invoke(*[a.format(fit=saved_fit[1]) for a in args])
    assert result.exit_code == 0, result.output
    widest = max(result.stdout.splitlines(), key=len)
    assert len(widest) <= TABLE_WIDTH, widest


def test_allocate_shows_each_interval_in_one_cell(saved_fit):
    result = invoke("allocate", saved_fit[1], "--C", "1e21")
    header = result.stdout.splitlines()[1]
    assert "N_opt" in header and "N_opt_median" not in header and "N_opt_lower" not in header
    table = saved_fit[0].allocate(C=1e21)
    row = table.iloc[0]
    assert interval_text(row["N_opt_median"], row["N_opt_lower"], row["N_opt_upper"]) in result.stdout


def test_format_table_wraps_wide_frames_and_keeps_every_column():
    import pandas as pd

    frame = pd.DataFrame({f"quantity_{i}_median": [1.0 + i] for i in range(12)}
                         | {f"quantity_{i}_lower": [0.5] for i in range(12)}
                         | {f"quantity_{i}_upper": [2.0 + i] for i in range(12)})
    text = format_table(frame)
    assert max(len(line) for line in text.splitlines()) <= TABLE_WIDTH
    assert all(f"quantity_{i}" in text for i in range(12)) and "_median" not in text


def test_wrapped_prose_indents_its_continuation():
    line = "diagnostics: " + "word " * 40
    out = wrapped(line).splitlines()
    assert len(out) > 1 and all(len(x) <= TABLE_WIDTH for x in out) and out[1].startswith("  word")
