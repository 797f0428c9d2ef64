"""The validation rules and their messages (bayes_scaling.data.validation, through load_runs)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_scaling import RunsValidationError, RunsWarning
from bayes_scaling.data.runs import load_runs
from bayes_scaling.data.validation import Problem, coerce_numeric, rows_text
from tests.data.test_runs import USER_MAP, canonical_frame, problems_of, user_frame


def test_non_numeric_strings_with_size_suggestion():
    frame = user_frame(index=range(100, 108)).astype({"Model Size": object})
    frame.loc[103, "Model Size"] = "7B"
    frame.loc[105, "Model Size"] = "big"
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, **USER_MAP)
    (problem,) = problems_of(excinfo)
    assert problem.rows == (103, 105) and problem.column == "Model Size"
    assert problem.message.startswith("column 'Model Size' (N) has non-numeric values")
    assert "'7B' at row 103 — did you mean 7e9?" in problem.message
    assert "'big' at row 105" in problem.message and "'big' at row 105 —" not in problem.message


def test_non_numeric_from_csv_thousands_separator(tmp_path):
    path = tmp_path / "runs.csv"
    path.write_text('N,loss\n"1,000",3.1\n2000,3.0\n')
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(path)
    assert "column 'N' has non-numeric values: '1,000' at row 0 — did you mean 1000?" in str(excinfo.value)


def test_missing_values_are_an_error_without_dropna():
    frame = user_frame(index=range(100, 108))
    frame.loc[[102, 106], "Final loss"] = np.nan
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, **USER_MAP)
    (problem,) = problems_of(excinfo)
    assert problem.rows == (102, 106)
    assert "column 'Final loss' (loss) has missing values (NaN) at rows 102 and 106" in problem.message
    assert "dropna=True" in problem.message


def test_infinite_values_reported_separately_from_missing():
    frame = user_frame(index=range(100, 108))
    frame.loc[101, "Training FLOP"] = np.inf
    frame.loc[104, "Training FLOP"] = np.nan
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, **USER_MAP)
    messages = [p.message for p in problems_of(excinfo)]
    assert messages == ["column 'Training FLOP' (C) has missing values (NaN) at row 104; fill them, "
                        "or pass dropna=True to drop those rows",
                        "column 'Training FLOP' (C) has infinite values: inf at row 101"]


def test_dropna_drops_missing_rows_with_warning_and_count():
    frame = user_frame(index=range(100, 108))
    frame.loc[102, "Final loss"] = np.nan
    frame.loc[106, "Model Size"] = np.nan
    with pytest.warns(RunsWarning) as record:
        runs = load_runs(frame, dropna=True, **USER_MAP)
    text = str(record[0].message)
    assert "dropped 2 of 8 rows" in text and "rows 102 and 106" in text
    assert "column 'Model Size' (N): row 106" in text and "column 'Final loss' (loss): row 102" in text
    assert runs.dropped == 2 and len(runs) == 6
    assert runs.data.index.tolist() == [100, 101, 103, 104, 105, 107]
    assert record[0].filename == __file__


def test_dropna_does_not_drop_inf_or_bad_strings():
    frame = user_frame(index=range(100, 108)).astype({"Final loss": object})
    frame.loc[101, "Final loss"] = "oops"
    frame.loc[103, "Training FLOP"] = -np.inf
    frame.loc[105, "Model Size"] = np.nan
    with pytest.warns(RunsWarning, match="row 105"), pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, dropna=True, **USER_MAP)
    text = str(excinfo.value)
    assert "'oops' at row 101" in text and "-inf at row 103" in text and "missing" not in text


def test_dropna_without_missing_values_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        runs = load_runs(canonical_frame(), dropna=True)
    assert runs.dropped == 0


@pytest.mark.parametrize("column", ["N", "D", "C", "loss", "B", "U", "B_crit", "step"])
def test_non_positive_values_are_errors(column):
    frame = canonical_frame(index=range(100, 108))
    frame["B"], frame["U"], frame["B_crit"], frame["step"] = 5e5, frame["D"], 2e5, np.arange(1.0, 9.0)
    frame = frame.rename(columns={column: f"my {column}"})
    frame.loc[[103, 104], f"my {column}"] = [0.0, -5.0]
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, c_rtol=np.inf, **{column: f"my {column}"})
    problem = next(p for p in problems_of(excinfo) if p.canonical == column)
    assert problem.rows == (103, 104)
    assert problem.message.startswith(f"column 'my {column}' ({column}) must be > 0")
    assert "found 0 at row 103, -5 at row 104" in problem.message
    if column == "step":
        assert "optimizer steps count from 1" in problem.message


def test_C_inconsistent_with_6ND():
    frame = canonical_frame(index=range(100, 108)).rename(columns={"C": "Training FLOP"})
    frame.loc[[102, 105], "Training FLOP"] *= 2.0
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, C="Training FLOP")
    (problem,) = problems_of(excinfo)
    assert problem.column == "Training FLOP" and problem.rows == (102, 105)
    assert "column 'Training FLOP' (C) disagrees with C = 6·N·D" in problem.message
    assert "C/(6·N·D) = 2 at row 102, 2 at row 105" in problem.message
    assert "flops_per_token=" in problem.message and "c_rtol=" in problem.message
    assert len(load_runs(frame, C="Training FLOP", c_rtol=1.5)) == 8


def test_C_consistent_with_custom_flops_per_token():
    frame = canonical_frame()
    frame["C"] *= 8 / 6
    with pytest.raises(RunsValidationError, match="C/\\(6·N·D\\) = 1.33"):
        load_runs(frame)
    assert load_runs(frame, flops_per_token=8).derived == {}


def test_duplicate_rows():
    frame = user_frame(n=10, index=range(100, 110))
    frame.loc[109] = frame.loc[104]
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, **USER_MAP)
    (problem,) = problems_of(excinfo)
    assert problem.rows == (104, 109)
    assert "rows 104 and 109 are identical" in problem.message
    assert "'Model Size' (N), 'Training FLOP' (C), 'Final loss' (loss)" in problem.message


def test_rows_differing_only_in_run_label_are_not_duplicates():
    frame = canonical_frame()
    frame.loc[7, ["N", "D", "C", "loss"]] = frame.loc[0, ["N", "D", "C", "loss"]]
    assert len(load_runs(frame)) == 8
    with pytest.raises(RunsValidationError, match="rows 0 and 7 are identical"):
        load_runs(frame.drop(columns="run"))


def test_rows_with_unparsable_values_are_not_called_duplicates():
    frame = user_frame(n=10, index=range(100, 110)).astype({"Model Size": object})
    frame.loc[109] = frame.loc[104]
    frame.loc[[104, 109], "Model Size"] = ["7B", "8B"]
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, **USER_MAP)
    (problem,) = problems_of(excinfo)
    assert "'7B' at row 104 — did you mean 7e9?; '8B' at row 109 — did you mean 8e9?" in problem.message


def test_high_loss_warns_naming_column_and_rows():
    frame = user_frame(index=range(100, 108))
    frame.loc[103, "Final loss"] = 45.0
    with pytest.warns(RunsWarning) as record:
        runs = load_runs(frame, **USER_MAP)
    text = str(record[0].message)
    assert "column 'Final loss' (loss)" in text and "45 at row 103" in text and "bits? perplexity?" in text
    assert runs.values("loss")[3] == 45.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_runs(frame, loss_warn_above=100, **USER_MAP)


def test_missing_labels_are_an_error():
    frame = canonical_frame(index=range(100, 108)).rename(columns={"run": "Run ID"})
    frame.loc[106, "Run ID"] = None
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, run="Run ID")
    (problem,) = problems_of(excinfo)
    assert problem.rows == (106,)
    assert problem.message.startswith("column 'Run ID' (run) has missing values at row 106")


def test_many_rows_are_abbreviated():
    frame = user_frame(n=12, index=range(100, 112))
    frame.loc[101:109, "Final loss"] = -1.0
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, **USER_MAP)
    problem = problems_of(excinfo)[0]
    assert len(problem.rows) == 9
    assert "-1 at row 101, -1 at row 102, -1 at row 103, -1 at row 104, -1 at row 105 and 4 more" \
        in problem.message


def test_multi_problem_error_lists_all_problems():
    frame = user_frame(index=range(100, 108)).astype({"Model Size": object})
    frame.loc[100, "Model Size"] = "70M"
    frame.loc[102, "Final loss"] = np.nan
    frame.loc[103, "Training FLOP"] = -1.0
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame, **USER_MAP)
    lines = str(excinfo.value).splitlines()
    assert lines[0] == "Invalid runs table (3 problems):"
    assert len(excinfo.value.problems) == 3 and len(lines) == 4
    assert "'70M' at row 100 — did you mean 7e7?" in lines[1]
    assert "column 'Training FLOP' (C) must be > 0; found -1 at row 103" in lines[2]
    assert "column 'Final loss' (loss) has missing values (NaN) at row 102" in lines[3]
    assert [p.canonical for p in excinfo.value.problems] == ["N", "C", "loss"]


def test_validation_error_pickles_with_problems():
    error = RunsValidationError([Problem("x", "N", (1,), "column 'x' (N) is bad at row 1")])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)
    assert str(error) == "Invalid runs table (1 problem):\n  - column 'x' (N) is bad at row 1"


def test_coerce_numeric_separates_missing_from_non_numeric():
    values, missing, bad = coerce_numeric(pd.Series([" 3.5 ", "1e9", "", None, "7B", True, 2], dtype=object))
    assert values[0] == 3.5 and values[1] == 1e9 and values[6] == 2.0
    assert missing.tolist() == [False, False, True, True, False, False, False]
    assert bad.tolist() == [False, False, False, False, True, True, False]  # text and booleans are not numbers


def test_rows_text_abbreviates():
    assert rows_text([3]) == "row 3" and rows_text([3, 7]) == "rows 3 and 7"
    assert rows_text(list(range(8))) == "rows 0, 1, 2, 3, 4 and 3 more"
