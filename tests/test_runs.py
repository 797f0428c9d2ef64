"""Unit tests for bayes_scaling.runs and bayes_scaling.units (fast, no sampler)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

from bayes_scaling.runs import (
    CANONICAL_COLUMNS,
    LABEL_COLUMNS,
    NUMERIC_COLUMNS,
    Problem,
    Runs,
    RunsValidationError,
    RunsWarning,
    check_runs_for_law,
    load_runs,
    runs_from_frame,
)
from bayes_scaling.units import (
    CANONICAL_UNITS,
    DEFAULT_FLOPS_PER_TOKEN,
    PF_DAY_FLOPS,
    flops_to_pf_days,
    parse_size_suffix,
    pf_days_to_flops,
)


def canonical_frame(n: int = 8, index=None) -> pd.DataFrame:
    """A valid chinchilla-style table with canonical names: N, D, C = 6ND, loss, run."""
    N = np.array([1e8, 2e8, 4e8, 8e8] * (n // 4 + 1))[:n]
    D = np.array([2e9] * 4 + [8e9] * 4 + [3e10] * (n))[:n]
    loss = 1.7 + 400 / N**0.34 + 410 / D**0.28
    return pd.DataFrame({"N": N, "D": D, "C": 6 * N * D, "loss": loss,
                         "run": [f"r{i}" for i in range(n)]}, index=index)


def user_frame(n: int = 8, index=None) -> pd.DataFrame:
    """The same table under user column names (no D column)."""
    frame = canonical_frame(n, index)
    return pd.DataFrame({"Model Size": frame["N"], "Training FLOP": frame["C"], "Final loss": frame["loss"]})


USER_MAP = {"N": "Model Size", "C": "Training FLOP", "loss": "Final loss"}


def problems_of(excinfo) -> list[Problem]:
    return excinfo.value.problems


# ----------------------------------------------------------------------------- units
@pytest.mark.parametrize("text, expected", [
    ("7B", 7e9), ("1.3b", 1.3e9), ("70M", 7e7), ("500k", 5e5), ("1.4T", 1.4e12), ("2e9", 2e9),
    ("3G", 3e9), ("1,000", 1000.0), ("1_000_000", 1e6), (" 7 B ", 7e9), ("12,500,000", 1.25e7),
    ("1.5e3M", 1.5e9), ("0.5", 0.5), ("-2k", -2000.0), (".5M", 5e5),
])
def test_parse_size_suffix_values(text, expected):
    assert parse_size_suffix(text) == expected


@pytest.mark.parametrize("text", ["seven", "", "B", "7X", "1,5B", "1,00", "inf", "nan", "7 billion", "7BB"])
def test_parse_size_suffix_rejects(text):
    assert parse_size_suffix(text) is None


def test_parse_size_suffix_non_string_is_none():
    assert parse_size_suffix(7e9) is None
    assert parse_size_suffix(None) is None


def test_units_constants_and_conversions():
    assert PF_DAY_FLOPS == 8.64e19 and DEFAULT_FLOPS_PER_TOKEN == 6.0
    assert flops_to_pf_days(8.64e19) == 1.0
    assert pf_days_to_flops(2.0) == 1.728e20
    np.testing.assert_allclose(flops_to_pf_days(pf_days_to_flops([0.5, 3.0])), [0.5, 3.0])
    assert CANONICAL_UNITS == {"N": "parameters", "D": "tokens", "C": "FLOPs", "loss": "nats/token",
                               "B": "tokens/batch", "U": "tokens (unique)", "step": "optimizer steps",
                               "B_crit": "tokens/batch"}


# ----------------------------------------------------------------------------- sources
def test_column_constants():
    assert CANONICAL_COLUMNS == ("N", "D", "C", "loss", "group", "run", "step", "B", "U", "B_crit")
    assert NUMERIC_COLUMNS == ("N", "D", "C", "loss", "step", "B", "U", "B_crit")
    assert LABEL_COLUMNS == ("group", "run")


def test_dataframe_csv_tsv_parquet_sources_agree(tmp_path):
    frame = user_frame()
    frame.to_csv(tmp_path / "runs.csv", index=False)
    frame.to_csv(tmp_path / "runs.csv.gz", index=False)
    frame.to_csv(tmp_path / "runs.tsv", index=False, sep="\t")
    frame.to_parquet(tmp_path / "runs.parquet")
    from_frame = load_runs(frame, **USER_MAP)
    for name in ("runs.csv", "runs.csv.gz", "runs.tsv", "runs.parquet"):
        loaded = load_runs(tmp_path / name, **USER_MAP)
        assert loaded == from_frame, name
        assert loaded.sha256() == from_frame.sha256(), name
        pd.testing.assert_frame_equal(loaded.data, from_frame.data, check_exact=True)
    assert load_runs(str(tmp_path / "runs.csv"), **USER_MAP) == from_frame


def test_parquet_keeps_custom_index(tmp_path):
    frame = user_frame(index=range(100, 108))
    frame.to_parquet(tmp_path / "runs.parquet")
    loaded = load_runs(tmp_path / "runs.parquet", **USER_MAP)
    assert loaded.data.index.tolist() == list(range(100, 108))
    assert loaded == load_runs(frame, **USER_MAP)


def test_missing_file_names_the_path(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_runs(path)


def test_unsupported_source_type_and_suffix(tmp_path):
    with pytest.raises(TypeError, match="got list"):
        load_runs([{"N": 1, "loss": 2}])
    path = tmp_path / "runs.xlsx"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"runs\.xlsx.*unsupported file type"):
        load_runs(path)


# ----------------------------------------------------------------------------- mapping and derivation
def test_mapping_user_columns_and_deriving_D():
    frame = user_frame()
    runs = load_runs(frame, **USER_MAP)
    assert list(runs.data.columns) == ["N", "D", "C", "loss"]
    assert runs.columns == USER_MAP
    assert runs.derived == {"D": "D = C / (6·N)"}
    assert runs.source_name("N") == "Model Size" and runs.source_name("D") == "D"
    assert runs.units == {"N": "parameters", "D": "tokens", "C": "FLOPs", "loss": "nats/token"}
    np.testing.assert_allclose(runs.values("D"), canonical_frame()["D"].to_numpy(), rtol=1e-15)
    assert runs.values("N").dtype == np.float64 and len(runs) == 8


def test_derive_C_from_N_and_D_with_custom_flops_per_token():
    frame = canonical_frame().drop(columns="C")
    runs = load_runs(frame, flops_per_token=8.0)
    assert runs.derived == {"C": "C = 8·N·D"} and runs.flops_per_token == 8.0
    np.testing.assert_array_equal(runs.values("C"), 8.0 * frame["N"].to_numpy() * frame["D"].to_numpy())
    assert "C" not in runs.columns


def test_derive_D_from_C_with_custom_flops_per_token():
    frame = canonical_frame().drop(columns="D")
    runs = load_runs(frame, flops_per_token=2.5)
    assert runs.derived == {"D": "D = C / (2.5·N)"}
    np.testing.assert_allclose(runs.values("D"), frame["C"] / (2.5 * frame["N"]), rtol=1e-15)


def test_derive_N_from_C_and_D():
    frame = canonical_frame().drop(columns="N")
    assert load_runs(frame).derived == {"N": "N = C / (6·D)"}
    runs = load_runs(frame, flops_per_token=4.0)
    assert runs.derived == {"N": "N = C / (4·D)"}
    np.testing.assert_allclose(runs.values("N"), 1.5 * canonical_frame()["N"], rtol=1e-12)


def test_no_N_D_C_is_fine_at_load_time():
    runs = load_runs(pd.DataFrame({"B_crit": [1e5, 2e5, 4e5], "loss": [3.0, 2.5, 2.2]}))
    assert runs.derived == {} and list(runs.data.columns) == ["loss", "B_crit"]


@pytest.mark.parametrize("bad", [0, -6, float("nan"), float("inf")])
def test_flops_per_token_must_be_positive_finite(bad):
    with pytest.raises(ValueError, match="flops_per_token must be finite and > 0"):
        load_runs(canonical_frame(), flops_per_token=bad)


def test_unknown_canonical_keyword_suggests():
    with pytest.raises(ValueError) as excinfo:
        load_runs(canonical_frame(), los="loss")
    text = str(excinfo.value)
    assert "'los'" in text and "did you mean 'loss'" in text and "N, D, C, loss, group, run" in text


def test_mapped_column_not_found_lists_available_and_suggests():
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(user_frame(), N="Model Sise", C="Training FLOP", loss="Final loss")
    (problem,) = problems_of(excinfo)
    assert problem.column == "Model Sise" and problem.canonical == "N"
    assert "column 'Model Sise' (N) not found" in problem.message
    assert "'Model Size', 'Training FLOP', 'Final loss'" in problem.message
    assert "did you mean 'Model Size'?" in problem.message


def test_missing_loss_is_a_problem():
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(canonical_frame().drop(columns="loss"))
    (problem,) = problems_of(excinfo)
    assert "missing required column 'loss' (map yours with loss='your column'" in problem.message


def test_canonical_column_used_without_mapping():
    frame = user_frame().rename(columns={"Final loss": "loss"})
    runs = load_runs(frame, N="Model Size", C="Training FLOP")
    assert runs.columns["loss"] == "loss"
    np.testing.assert_array_equal(runs.values("loss"), frame["loss"].to_numpy())


def test_repeated_source_column_is_a_problem():
    frame = pd.DataFrame([[1e8, 3.0, 3.1], [2e8, 2.9, 3.0]], columns=["N", "loss", "loss"])
    with pytest.raises(RunsValidationError) as excinfo:
        load_runs(frame)
    assert "column 'loss' appears 2 times" in str(excinfo.value)


# ----------------------------------------------------------------------------- no silent changes
def test_user_dataframe_is_not_modified():
    frame = user_frame(index=range(100, 108)).astype({"Model Size": object})
    frame.loc[101, "Model Size"] = " 2e8 "
    frame["Final loss"] = frame["Final loss"].astype(str)
    before = frame.copy(deep=True)
    runs = load_runs(frame, dropna=True, **USER_MAP)
    pd.testing.assert_frame_equal(frame, before, check_exact=True)
    assert runs.values("N")[1] == 2e8 and runs.data["loss"].dtype == np.float64


def test_index_labels_and_order_preserved():
    index = [107, 103, 100, 105, 101, 106, 102, 104]
    frame = user_frame(index=index)
    runs = load_runs(frame, **USER_MAP)
    assert runs.data.index.tolist() == index
    np.testing.assert_array_equal(runs.values("N"), frame["Model Size"].to_numpy())


def test_numeric_strings_are_converted():
    frame = canonical_frame().astype({"N": object, "loss": object})
    frame.loc[0, "N"] = "1e8"
    frame.loc[3, "loss"] = f" {frame.loc[3, 'loss']!r} "
    runs = load_runs(frame)
    np.testing.assert_array_equal(runs.values("N"), canonical_frame()["N"].to_numpy())
    np.testing.assert_array_equal(runs.values("loss"), canonical_frame()["loss"].to_numpy())


def test_labels_are_strings():
    frame = canonical_frame()
    frame["group"] = [1, 1, 2, 2, 3, 3, 4, 4]
    runs = load_runs(frame)
    assert runs.data["group"].tolist() == ["1", "1", "2", "2", "3", "3", "4", "4"]
    assert runs.values("run")[0] == "r0"


# ----------------------------------------------------------------------------- validation rules
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


# ----------------------------------------------------------------------------- Runs methods
def test_sha256_stable_and_sensitive():
    runs = load_runs(user_frame(), **USER_MAP)
    again = load_runs(user_frame(), **USER_MAP)
    assert runs.sha256() == again.sha256() and len(runs.sha256()) == 64
    int(runs.sha256(), 16)
    changed = user_frame()
    changed.loc[5, "Final loss"] = np.nextafter(changed.loc[5, "Final loss"], 10.0)
    assert load_runs(changed, **USER_MAP).sha256() != runs.sha256()
    relabelled = user_frame(index=range(1, 9))
    assert load_runs(relabelled, **USER_MAP).sha256() != runs.sha256()


def test_describe_table():
    runs = load_runs(user_frame(), **USER_MAP)
    table = runs.describe()
    assert table.index.tolist() == ["N", "D", "C", "loss"]
    assert table.loc["N", "source"] == "Model Size" and table.loc["D", "source"] == "D = C / (6·N)"
    assert table.loc["C", "unit"] == "FLOPs" and table.loc["N", "min"] == 1e8
    assert table.loc["N", "max"] == 8e8 and table.loc["N", "n_distinct"] == 4


def test_values_of_absent_column_raises_clear_key_error():
    runs = load_runs(canonical_frame())
    with pytest.raises(KeyError, match="no column 'U'.*U='your column'"):
        runs.values("U")
    assert runs.has("C") and not runs.has("U")


def test_runs_from_frame_round_trip_and_revalidates():
    runs = load_runs(user_frame(index=range(100, 108)), **USER_MAP)
    rebuilt = runs_from_frame(runs.data, columns=runs.columns, derived=runs.derived,
                              flops_per_token=runs.flops_per_token)
    assert rebuilt == runs and rebuilt.data.index.tolist() == list(range(100, 108))
    broken = runs.data.copy()
    broken.loc[104, "N"] = -3.0
    expected = r"column 'Model Size' \(N\) must be > 0; found -3 at row 104"
    with pytest.raises(RunsValidationError, match=expected):
        runs_from_frame(broken, columns=runs.columns, derived=runs.derived)
    with pytest.raises(ValueError, match="canonical column names"):
        runs_from_frame(runs.data.rename(columns={"N": "Model Size"}))


# ----------------------------------------------------------------------------- check_runs_for_law
def test_law_check_passes_for_suitable_runs():
    runs = load_runs(canonical_frame())
    assert check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=5, law="chinchilla") is None


def test_law_check_missing_column_with_derivation_hint():
    runs = load_runs(canonical_frame().drop(columns=["D", "C"]))
    with pytest.raises(RunsValidationError) as excinfo:
        check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=5, law="chinchilla")
    (problem,) = problems_of(excinfo)
    assert str(excinfo.value).startswith("Runs cannot be fitted with law 'chinchilla' (1 problem):")
    assert "law 'chinchilla' needs column 'D'" in problem.message
    assert "load_runs(..., D='your column')" in problem.message
    assert "also map C=" in problem.message and "D = C / (6·N)" in problem.message


def test_law_check_too_few_runs():
    runs = load_runs(canonical_frame(5))
    with pytest.raises(RunsValidationError) as excinfo:
        check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=6, law="chinchilla")
    assert [p.message for p in problems_of(excinfo)] == [
        "law 'chinchilla' has 6 parameters; need at least 8 runs, got 5"]


def test_law_check_single_valued_input():
    frame = canonical_frame(12, index=range(100, 112))
    frame["D"], frame["C"] = 1e9, 6e9 * frame["N"]
    runs = load_runs(frame.rename(columns={"D": "tokens"}), D="tokens")
    with pytest.raises(RunsValidationError) as excinfo:
        check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=5, law="chinchilla")
    (problem,) = problems_of(excinfo)
    assert problem.column == "tokens"
    assert problem.message.startswith("column 'tokens' (D) has a single value 1e9 in all 12 rows")
    assert "rows 100, 101, 102, 103, 104 and 7 more" in problem.message
    assert "cannot separate its effect" in problem.message


def test_law_check_reports_all_problems_together():
    runs = load_runs(pd.DataFrame({"N": [1e8, 1e8, 1e8], "loss": [3.0, 2.9, 2.8]}))
    with pytest.raises(RunsValidationError) as excinfo:
        check_runs_for_law(runs, inputs=("N", "D"), response="loss", n_params=5, law="chinchilla")
    canon = [p.canonical for p in problems_of(excinfo)]
    assert canon == ["D", "loss", "N"]
    assert "(3 problems)" in str(excinfo.value).splitlines()[0]


def test_law_check_rejects_non_canonical_names():
    runs = load_runs(canonical_frame())
    with pytest.raises(ValueError, match="unknown column"):
        check_runs_for_law(runs, inputs=("params",), response="loss", n_params=2, law="x")


def test_runs_is_frozen():
    runs = load_runs(canonical_frame())
    assert isinstance(runs, Runs)
    with pytest.raises(AttributeError):
        runs.dropped = 3
