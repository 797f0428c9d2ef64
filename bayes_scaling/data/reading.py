"""Reading a runs table from a file (or copying a DataFrame): the first step of
:func:`~bayes_scaling.data.runs.load_runs`."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["read_table", "FILE_KINDS"]

#: File suffixes read, and their delimiter (None: parquet).
FILE_KINDS = {".csv": ",", ".csv.gz": ",", ".tsv": "\t", ".tsv.gz": "\t", ".parquet": None, ".pq": None}


def read_table(source: Any) -> pd.DataFrame:
    """A copy of the DataFrame, or the table read from a .csv/.csv.gz/.tsv/.parquet path."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError("load_runs expects a pandas DataFrame or a path to a .csv, .csv.gz, .tsv or "
                        f".parquet file; got {type(source).__name__} {source!r:.80}")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "runs file not found", str(path))
    suffix = next((s for s in FILE_KINDS if path.name.lower().endswith(s)), None)
    if suffix is None:
        raise ValueError(f"cannot read runs from '{path}': unsupported file type; use .csv, .csv.gz, "
                         ".tsv or .parquet, or pass a DataFrame")
    sep = FILE_KINDS[suffix]
    return pd.read_parquet(path) if sep is None else pd.read_csv(path, sep=sep)
