"""The command line's helpers: number parsing, column maps, tables, JSON, one-line errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import typer

from bayes_scaling.cli.support import (
    cli_hints,
    error_text,
    format_table,
    parse_columns,
    parse_inputs,
    parse_number,
    records,
    text_table,
)


def test_numbers_as_people_write_them():
    assert parse_number("7e10", "--N") == 7e10 and parse_number("70B", "--N") == 7e10
    assert parse_number("1,000", "--C") == 1000.0
    for bad in ("seven", "inf", "nan"):
        with pytest.raises(typer.BadParameter):
            parse_number(bad, "--N")


def test_column_maps_and_inputs():
    assert parse_columns(["N=params", "loss = val"]) == {"N": "params", "loss": "val"}
    with pytest.raises(typer.BadParameter, match="mapped twice"):
        parse_columns(["N=a", "N=b"])
    assert parse_inputs(["step=1000", "step=2k"]) == {"step": [1000.0, 2000.0]}


def test_tables_and_json_records():
    frame = pd.DataFrame({"x": [1.23456789, 7e10], "ess_bulk": [3881.4483, 12.0], "ok": [True, False]})
    text = format_table(frame)
    assert "1.235" in text and "7e+10" in text and "3881" in text and "3881.4" not in text
    assert records(frame.assign(y=[np.nan, math.inf]))[0] == {"x": 1.23456789, "ess_bulk": 3881.4483, "ok": True,
                                                             "y": None}
    assert text_table(pd.DataFrame({"a": ["x", "yy"]})).splitlines() == ["a", "x", "yy"]


def test_errors_read_as_one_line_with_the_command_line_options():
    assert error_text(FileNotFoundError(2, "No such file", "runs.csv")) == "No such file: runs.csv"
    assert error_text(KeyError("no column 'N'")) == "no column 'N'"
    assert cli_hints("map it with load_runs(..., N='your column')") == "map it with --col N=YOUR_COLUMN"
    assert cli_hints("increase tune (e.g. tune=2000)") == "increase tune (e.g. --tune 2000)"


def test_a_library_warning_is_labelled_and_the_cli_tests_would_catch_it(capsys):
    """Issue 18: our warnings read 'warning: ...'; a library's is labelled with its origin, and the
    check every CLI test runs (tests.helpers.third_party_lines) flags it."""
    import warnings

    import numpy as np

    from bayes_scaling.cli.support import warnings_to_stderr
    from bayes_scaling.core.errors import ModelCheckWarning
    from tests.helpers import third_party_lines

    with warnings_to_stderr():
        warnings.warn("nu is small", ModelCheckWarning)
        with np.errstate(divide="warn"):
            np.log(np.zeros(1))
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "warning: nu is small"
    assert err[1].startswith("warning (RuntimeWarning at test_support.py:") and "divide by zero" in err[1]
    assert third_party_lines("\n".join(err)) == [err[1]]
