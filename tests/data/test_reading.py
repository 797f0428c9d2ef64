"""Reading runs tables from DataFrames and files (bayes_scaling.data.reading, through load_runs)."""

from __future__ import annotations

import pandas as pd
import pytest

from bayes_scaling.data.reading import FILE_KINDS, read_table
from bayes_scaling.data.runs import CANONICAL_COLUMNS, LABEL_COLUMNS, NUMERIC_COLUMNS, load_runs
from tests.data.test_runs import USER_MAP, canonical_frame, user_frame


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


def test_read_table_copies_a_frame_and_knows_its_file_kinds(tmp_path):
    frame = canonical_frame()
    copy = read_table(frame)
    copy.iloc[0, 0] = -1.0
    assert frame.iloc[0, 0] != -1.0  # the user's frame is never modified
    assert {".csv", ".tsv", ".parquet"} <= set(FILE_KINDS)
    path = tmp_path / "runs.tsv"
    frame.to_csv(path, sep="\t", index=False)
    pd.testing.assert_frame_equal(read_table(path), frame.reset_index(drop=True))
