"""Reading a runs table from a file (or copying a DataFrame): the first step of
:func:`~bayes_scaling.data.runs.load_runs`.

Text files are checked before pandas reads them, so that what goes wrong is said in the file's
terms: an empty file, an encoding that is not UTF-8 (UTF-16 and a UTF-8 byte-order mark are
read), the delimiter (sniffed among ``, ; tab |``; a file whose delimiter is not its suffix's is
read with the one found, and a warning says so), a header that repeats a column, and lines with
more or fewer fields than the header.
"""

from __future__ import annotations

import csv
import errno
import gzip
import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from ..core.errors import InputError, InputTypeError, RunsFileError, RunsWarning

__all__ = ["read_table", "FILE_KINDS"]

#: File suffixes read, and their delimiter (None: parquet).
FILE_KINDS = {".csv": ",", ".csv.gz": ",", ".tsv": "\t", ".tsv.gz": "\t", ".parquet": None, ".pq": None}
_HEAD = 64 * 1024  # bytes looked at to sniff encoding and delimiter
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def read_table(source: Any) -> pd.DataFrame:
    """A copy of the DataFrame, or the table read from a .csv/.csv.gz/.tsv/.parquet path."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if not isinstance(source, (str, os.PathLike)):
        raise InputTypeError("load_runs expects a pandas DataFrame or a path to a .csv, .csv.gz, .tsv or "
                        f".parquet file; got {type(source).__name__} {source!r:.80}")
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "runs file not found", str(path))
    suffix = next((s for s in FILE_KINDS if path.name.lower().endswith(s)), None)
    if suffix is None:
        raise InputError(f"cannot read runs from '{path}': unsupported file type; use .csv, .csv.gz, "
                         ".tsv or .parquet, or pass a DataFrame")
    sep = FILE_KINDS[suffix]
    if sep is None:
        try:
            return pd.read_parquet(path)
        except Exception as exc:  # pyarrow raises its own kinds for a damaged file
            raise RunsFileError(f"{path}: not a readable parquet file ({type(exc).__name__}: {exc})") from exc
    return _read_text(path, sep)


def _head(path: Path) -> bytes:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(_HEAD)
    except (OSError, EOFError) as exc:
        raise RunsFileError(f"{path}: cannot be read ({exc})") from exc


def _encoding(path: Path, head: bytes) -> str:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if head[:3] == b"\xef\xbb\xbf":
        return "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not a character cut at the end of the sample
            raise RunsFileError(f"{path}: not UTF-8 text (byte {exc.start} is {head[exc.start]:#04x}); save the "
                                "table as UTF-8 CSV") from None
    return "utf-8"


def _read_text(path: Path, expected: str) -> pd.DataFrame:
    head = _head(path)
    encoding = _encoding(path, head)
    text = head.decode(encoding, errors="ignore")
    lines = [line for line in text.splitlines() if line.strip()][:20]
    if not lines:
        raise RunsFileError(f"{path}: the file is empty; a runs table needs a header line (e.g. N,D,loss) and "
                            "one line per run")
    sep = _delimiter(path, lines, expected)
    header = next(csv.reader([lines[0]], delimiter=sep))
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise RunsFileError(f"{path}: the header repeats column(s) {', '.join(repr(c) for c in repeated)}; "
                            "rename them so that each column has one name")
    try:
        return pd.read_csv(path, sep=sep, encoding=encoding)
    except pd.errors.EmptyDataError as exc:
        raise RunsFileError(f"{path}: no table found ({exc})") from exc
    except pd.errors.ParserError as exc:
        raise RunsFileError(f"{path}: {str(exc).strip()}; every line needs as many {_NAMES.get(sep, repr(sep))}-"
                            f"separated fields as the header ({len(header)}: {', '.join(header)})") from exc
    except UnicodeDecodeError as exc:
        raise RunsFileError(f"{path}: not {encoding} text further on ({exc.reason} at byte {exc.start}); save "
                            "the table as UTF-8 CSV") from exc


def _delimiter(path: Path, lines: list[str], expected: str) -> str:
    """The suffix's delimiter, unless the header clearly uses another (then warn and use it)."""
    counts = {d: lines[0].count(d) for d in _NAMES}
    if counts[expected]:
        return expected
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(_NAMES)).delimiter
    except csv.Error:
        found = max(counts, key=counts.get) if max(counts.values()) else expected
    if found != expected and counts.get(found, 0):
        warnings.warn(f"{path}: the header has no {_NAMES[expected]} but {counts[found]} {_NAMES[found]}(s); "
                      f"read as {_NAMES[found]}-separated", RunsWarning, stacklevel=4)
        return found
    return expected
