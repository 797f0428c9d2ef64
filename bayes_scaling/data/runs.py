"""Load and validate tables of training runs for scaling-law fits.

:func:`load_runs` maps the user's column names onto :data:`CANONICAL_COLUMNS`, derives the missing one of
N, D, C from the other two, checks every value and reports *all* problems at once in a
:class:`RunsValidationError`. Nothing is silently dropped, clipped, reordered or changed: rows keep the
source's order and index labels, and messages name rows by those labels (for CSV/TSV files the 0-based
data row, header not counted).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import InputError, InputTypeError, RunsValidationError
from ..core.formatting import exact
from .consistency import checkpoint_problems, label_type_problems, no_input_problem, warn_implausible
from .reading import read_table
from .units import CANONICAL_UNITS, DEFAULT_FLOPS_PER_TOKEN
from .validation import (
    CANONICAL_COLUMNS,
    LABEL_COLUMNS,
    NUMERIC_COLUMNS,
    RESPONSE_COLUMNS,
    Problem,
    bad_values_problem,
    check_flops_per_token,
    check_keywords,
    coerce_numeric,
    column_problem,
    consistency_problems,
    derived_problems,
    drop_missing,
    duplicate_problems,
    is_number,
    label_values,
    missing_response,
    resolve_columns,
    rows_text,
    value_problems,
    warn_high_loss,
)

__all__ = ["CANONICAL_COLUMNS", "NUMERIC_COLUMNS", "LABEL_COLUMNS", "Problem",
           "Runs", "load_runs", "check_runs_for_law", "runs_from_frame"]

@dataclass(frozen=True)
class Runs:
    """A validated runs table with canonical column names.

    Attributes
    ----------
    data : pandas.DataFrame
        Canonical columns only, in :data:`CANONICAL_COLUMNS` order; numeric
        columns float64, label columns str; the source's rows, order and index
        (minus rows dropped by an explicit ``dropna=True``).
    columns : dict of str to str
        Canonical name -> the user's source column name, for columns read.
    derived : dict of str to str
        Canonical name -> how it was derived, e.g. ``{"D": "D = C / (6·N)"}``.
    flops_per_token : float
        k in C = k·N·D.
    units : dict of str to str
        Canonical name -> unit, for the numeric columns present.
    dropped : int
        Rows dropped (``dropna=True``, a dataset's cleaning, the checkpoint warm-up).
    drops : tuple of (str, tuple)
        Why: ``(reason, source row labels)`` per drop (:mod:`bayes_scaling.data.drops`).
    """

    data: pd.DataFrame
    columns: dict[str, str]
    derived: dict[str, str]
    flops_per_token: float
    units: dict[str, str]
    dropped: int = 0
    drops: tuple = ()

    def __len__(self) -> int:
        return len(self.data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Runs):
            return NotImplemented
        meta = ("columns", "derived", "flops_per_token", "units", "dropped", "drops")
        return all(getattr(self, a) == getattr(other, a) for a in meta) and self.sha256() == other.sha256()

    def __hash__(self) -> int:
        return hash(self.sha256())

    def has(self, name: str) -> bool:
        """Whether canonical column ``name`` is present."""
        return name in self.data.columns

    def values(self, name: str) -> np.ndarray:
        """Copy of column ``name``: float64 if numeric, str objects if a label; KeyError if absent."""
        if not self.has(name):
            raise KeyError(f"runs have no column '{name}' (present: {', '.join(self.data.columns)}); "
                           f"map it with load_runs(..., {name}='your column')")
        dtype = object if name in LABEL_COLUMNS else np.float64
        return self.data[name].to_numpy(dtype=dtype, copy=True)

    def sha256(self) -> str:
        """SHA-256 hex digest of the canonical data (CSV with index, floats as '%.17g')."""
        text = self.data.to_csv(index=True, float_format="%.17g", lineterminator="\n")
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def describe(self) -> pd.DataFrame:
        """Per numeric column: source (column or derivation), unit, min, max, n_distinct."""
        rows = [{"column": c, "source": self.derived.get(c, self.source_name(c)),
                 "unit": self.units.get(c, ""), "min": self.data[c].min(), "max": self.data[c].max(),
                 "n_distinct": int(self.data[c].nunique())} for c in NUMERIC_COLUMNS if self.has(c)]
        return pd.DataFrame(rows, columns=["column", "source", "unit", "min", "max", "n_distinct"]).set_index("column")

    def compute(self, flops_per_token: float | None = None) -> np.ndarray | None:
        """Training compute of every run (FLOPs): column ``C``, else ``k·N·D`` (k: this table's, or
        ``flops_per_token``); None without them. The one definition of the observed compute.
        """
        if self.has("C"):
            return self.values("C")
        if self.has("N") and self.has("D"):
            k = self.flops_per_token if flops_per_token is None else float(flops_per_token)
            return k * self.values("N") * self.values("D")
        return None

    def observed_range(self, name: str) -> tuple[float, float]:
        """(min, max) of a numeric column (``"C"`` also from k·N·D); KeyError if the runs lack it."""
        values = self.compute() if name == "C" else self.values(name)
        if values is None:
            raise KeyError("runs have no column 'C' and no N and D to derive it from")
        return float(np.min(values)), float(np.max(values))

    def subset(self, mask: np.ndarray) -> Runs:
        """The rows where ``mask`` is True, validated again, with this table's metadata."""
        rows = runs_from_frame(self.data.loc[np.asarray(mask, dtype=bool)], columns=self.columns,
                               derived=self.derived, flops_per_token=self.flops_per_token)
        return dataclasses.replace(rows, dropped=self.dropped, drops=self.drops)

    def by_group(self) -> Iterator[tuple[str, Runs]]:
        """``(label, runs)`` for each value of the ``group`` column, in order of first appearance."""
        if not self.has("group"):
            raise InputError("the runs have no 'group' column (load_runs(..., group='<your family column>'))")
        labels = self.data["group"].astype(str)
        for g in pd.unique(labels):
            yield str(g), dataclasses.replace(self, data=self.data.loc[(labels == g).to_numpy()])

    def source_name(self, canonical: str) -> str:
        """The user's column name for ``canonical``; the canonical name if derived or absent."""
        if canonical not in CANONICAL_COLUMNS:
            raise KeyError(f"'{canonical}' is not a canonical column ({', '.join(CANONICAL_COLUMNS)})")
        return self.columns.get(canonical, canonical)


# ----------------------------------------------------------------------------- build
def _derive(data: dict[str, np.ndarray], k: float) -> dict[str, str]:
    """Add the missing one of N, D, C from the other two; return how it was derived."""
    kt, has = exact(k), data.keys()
    if {"N", "C"} <= has and "D" not in has:
        data["D"] = data["C"] / (k * data["N"])
        return {"D": f"D = C / ({kt}·N)"}
    if {"N", "D"} <= has and "C" not in has:
        data["C"] = k * data["N"] * data["D"]
        return {"C": f"C = {kt}·N·D"}
    if {"D", "C"} <= has and "N" not in has:
        data["N"] = data["C"] / (k * data["D"])
        return {"N": f"N = C / ({kt}·D)"}
    return {}


def _build(frame: pd.DataFrame, read: Mapping[str, Any], display: Mapping[str, Any], k: float, *,
           problems: list[Problem], derived: Mapping[str, str] | None, c_rtol: float | None,
           dropna: bool, loss_warn_above: float | None) -> Runs:
    """Convert and validate the columns ``read``; raise RunsValidationError or return the Runs.

    ``derived=None`` derives a missing N/D/C; otherwise it describes columns already
    present.  Duplicates are looked for only when every requested column resolved.
    """
    index, complete = frame.index, not problems
    numeric, missing, unparsed = {}, {}, np.zeros(len(index), dtype=bool)
    for name in (c for c in NUMERIC_COLUMNS if c in read):
        raw = frame[read[name]]
        numeric[name], missing[name], bad = coerce_numeric(raw)
        if bad.any():
            problems.append(bad_values_problem(display[name], name, raw, bad))
            unparsed |= bad
    keep = drop_missing(missing, display, index) if dropna else np.ones(len(index), dtype=bool)
    index = index[keep]
    columns = {name: values[keep] for name, values in numeric.items()}
    for name, values in columns.items():
        problems += value_problems(display[name], name, values, missing[name][keep], index)
    ndc = {"N", "D", "C"}
    if c_rtol is not None and ndc <= columns.keys() and not (derived or {}).keys() & ndc:
        problems += consistency_problems(columns, display["C"], k, c_rtol, index)
    for name in (c for c in LABEL_COLUMNS if c in read):
        columns[name], label_problems = label_values(frame[read[name]][keep], display[name], name, index)
        problems += label_problems + label_type_problems(frame[read[name]][keep], display[name], name, index)
    problems += checkpoint_problems(columns, display, index)
    if complete:  # rows with unparsable values are left out: their NaNs could look identical
        parsed = ~unparsed[keep]
        problems += duplicate_problems(pd.DataFrame(columns)[parsed], display, index[parsed])
    if complete:
        warn_implausible(columns, display, index)
    if loss_warn_above is not None and "loss" in columns:
        warn_high_loss(columns["loss"], display["loss"], index, loss_warn_above)
    if problems:
        raise RunsValidationError(problems)
    derived = _derive(columns, k) if derived is None else dict(derived)
    if problems := derived_problems(columns, derived, display, index):
        raise RunsValidationError(problems)
    data = pd.DataFrame({c: columns[c] for c in CANONICAL_COLUMNS if c in columns}, index=index)
    data = data.astype({c: "str" for c in LABEL_COLUMNS if c in data.columns})
    units = {c: CANONICAL_UNITS[c] for c in data.columns if c in CANONICAL_UNITS}
    gone = tuple(frame.index[~keep].tolist())
    return Runs(data=data, columns={c: display[c] for c in read if c not in derived}, derived=derived,
                flops_per_token=k, units=units, dropped=len(gone),
                drops=(("dropna=True: missing values", gone),) if gone else ())


# ----------------------------------------------------------------------------- public API
def load_runs(source: Any, *, flops_per_token: float = DEFAULT_FLOPS_PER_TOKEN, c_rtol: float = 0.25,
              dropna: bool = False, loss_warn_above: float = 20.0, **columns: str) -> Runs:
    """Load, map, derive and validate a table of training runs.

    Parameters
    ----------
    source : pandas.DataFrame, str or os.PathLike
        The table (copied, never modified), or a path to a .csv, .csv.gz, .tsv
        (.tsv.gz) or .parquet (.pq) file.
    flops_per_token : float, default 6.0
        k in C = k·N·D, used to derive D, C or N and to check C; finite, > 0.
    c_rtol : float, default 0.25
        Largest accepted ``|C / (k·N·D) - 1|`` when N, D, C all come from the source.
    dropna : bool, default False
        Drop rows with missing values in a numeric column (with a RunsWarning)
        instead of reporting them.  Infinite and non-numeric values are always reported.
    loss_warn_above : float, default 20.0
        Warn (RunsWarning) about losses above this many nats/token; None never warns.
    **columns : str
        Canonical name -> the user's column name, e.g. ``N="Model Size"``.
        Columns already named canonically need no mapping.

    Returns
    -------
    Runs

    Raises
    ------
    RunsValidationError
        Listing every problem found in the table.
    TypeError, ValueError, FileNotFoundError
        For an unusable ``source``, unknown keywords or bad options.
    """
    k = check_flops_per_token(flops_per_token)
    if not is_number(c_rtol) or not c_rtol >= 0 or (loss_warn_above is not None and not is_number(loss_warn_above)):
        raise InputError(f"need c_rtol >= 0 and a numeric loss_warn_above, got {c_rtol!r} and "
                         f"{loss_warn_above!r}")
    check_keywords(columns)
    frame = read_table(source)
    read, problems = resolve_columns(frame, columns)
    problems += missing_response([*read, *(c for c in columns if c in RESPONSE_COLUMNS)])
    problems += [] if problems else no_input_problem(read, list(frame.columns))
    try:
        return _build(frame, read, read, k, problems=problems, derived=None, c_rtol=c_rtol,
                      dropna=bool(dropna), loss_warn_above=loss_warn_above)
    except RunsValidationError as exc:
        if isinstance(source, pd.DataFrame):
            raise
        raise RunsValidationError(exc.problems, header=f"Invalid runs table {source} (rows numbered from 0 "
                                  "after the header: row 0 is line 2 of the file)") from None


def runs_from_frame(data: pd.DataFrame, *, columns: Mapping[str, str] | None = None,
                    derived: Mapping[str, str] | None = None,
                    flops_per_token: float = DEFAULT_FLOPS_PER_TOKEN, c_rtol: float | None = None,
                    loss_warn_above: float | None = None) -> Runs:
    """Rebuild a Runs from an already-canonical frame (e.g. a saved fit), validating it again.

    Parameters
    ----------
    data : pandas.DataFrame
        Canonical column names only, derived columns included.
    columns : mapping, optional
        ``Runs.columns``: canonical -> the user's original column name (used in messages).
    derived : mapping, optional
        ``Runs.derived``: these columns must be in ``data`` and are not derived again.
    flops_per_token : float, default 6.0
    c_rtol : float, optional
        Re-check C against k·N·D with this tolerance; None skips it (the load-time
        tolerance is not known).
    loss_warn_above : float, optional
        Warn about losses above this; None does not warn again.

    Returns
    -------
    Runs
    """
    if not isinstance(data, pd.DataFrame):
        raise InputTypeError(f"runs_from_frame expects a pandas DataFrame, got {type(data).__name__}")
    k = check_flops_per_token(flops_per_token)
    columns, derived = dict(columns or {}), dict(derived or {})
    if any(c not in CANONICAL_COLUMNS for c in data.columns) or data.columns.duplicated().any():
        raise InputError(f"runs_from_frame needs unique canonical column names "
                         f"({', '.join(CANONICAL_COLUMNS)}); got {list(data.columns)}")
    if any(c not in data.columns for c in [*columns, *derived]) or columns.keys() & derived.keys():
        raise InputError(f"columns= and derived= must name distinct columns of the frame; frame has "
                         f"{list(data.columns)}, columns={columns}, derived={derived}")
    read = {c: c for c in CANONICAL_COLUMNS if c in data.columns}
    return _build(data.copy(), read, {c: columns.get(c, c) for c in read}, k,
                  problems=missing_response(list(read)), derived=derived, c_rtol=c_rtol, dropna=False,
                  loss_warn_above=loss_warn_above)


# ----------------------------------------------------------------------------- law checks
def _missing_for_law(runs: Runs, name: str, law: str) -> Problem:
    """Problem for a column that a law needs and the runs lack, with a derivation hint."""
    kt = exact(runs.flops_per_token)
    recipes = {"D": ("N", "C", f"D = C / ({kt}·N)"), "C": ("N", "D", f"C = {kt}·N·D"),
               "N": ("D", "C", f"N = C / ({kt}·D)")}
    unit = f" ({CANONICAL_UNITS[name]})" if name in CANONICAL_UNITS else ""
    text = (f"law '{law}' needs column '{name}'{unit}, which the runs do not have; "
            f"map it with load_runs(..., {name}='your column')")
    if name in recipes:
        a, b, formula = recipes[name]
        lacking = " and ".join(f"{c}=" for c in (a, b) if not runs.has(c))
        text += f", or also map {lacking}: {name} is derived as {formula} when {a} and {b} are given"
    return Problem(name, name, (), text)


def check_runs_for_law(runs: Runs, *, inputs: Sequence[str], response: str, n_params: int, law: str) -> None:
    """Check that ``runs`` can be fitted by a law; raise RunsValidationError listing all problems.

    Parameters
    ----------
    runs : Runs
    inputs : sequence of str
        Canonical names of the law's inputs, e.g. ``("N", "D")``.
    response : str
        Canonical name of the response, e.g. ``"loss"``.
    n_params : int
        Free parameters of the law; at least ``n_params + 2`` runs are required.
    law : str
        The law's name, for messages.

    Raises
    ------
    RunsValidationError
        For missing columns, too few runs, and inputs with a single distinct value.
    ValueError
        If ``inputs`` or ``response`` are not canonical column names.
    """
    inputs = (inputs,) if isinstance(inputs, str) else tuple(inputs)
    if unknown := [c for c in (*inputs, response) if c not in CANONICAL_COLUMNS]:
        raise InputError(f"law '{law}' uses unknown column(s) {unknown}; canonical columns are "
                         f"{', '.join(CANONICAL_COLUMNS)}")
    problems = [_missing_for_law(runs, c, law) for c in dict.fromkeys((*inputs, response)) if not runs.has(c)]
    if len(runs) < (needed := int(n_params) + 2):
        problems.append(Problem(runs.source_name(response), response, (), f"law '{law}' has {n_params} "
                                f"parameters; need at least {needed} runs, got {len(runs)}"))
    for name in (c for c in dict.fromkeys(inputs) if runs.has(c)):
        column, rows = runs.data[name], runs.data.index.tolist()
        if rows and column.nunique(dropna=False) == 1:
            value = exact(column.iloc[0]) if name in NUMERIC_COLUMNS else repr(column.iloc[0])
            problems.append(column_problem(runs.source_name(name), name, rows, f"has a single value {value} "
                                         f"in all {len(rows)} rows ({rows_text(rows)}): the law cannot "
                                         "separate its effect"))
    if problems:
        raise RunsValidationError(problems, header=f"Runs cannot be fitted with law '{law}'")
