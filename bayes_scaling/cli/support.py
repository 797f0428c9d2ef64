"""Helpers of the command line: exit codes, one-line errors, tables, JSON, option parsing."""

from __future__ import annotations

import contextlib
import enum
import json
import math
import re
import textwrap
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import typer

from ..api import load_fit
from ..core.errors import BayesScalingError, BayesScalingWarning
from ..core.formatting import fmt_count, fmt_number
from ..core.intervals import compact_intervals
from ..data.units import parse_size_suffix

__all__ = ["format_table", "text_table", "record_blocks", "wrapped", "records", "EXIT_OK", "EXIT_FAILED",
           "EXIT_INVALID_INPUT", "EXIT_DIAGNOSTICS"]


EXIT_OK = 0
EXIT_FAILED = 1  # an unexpected failure (not bad input): one line, never a traceback
EXIT_INVALID_INPUT = 2
EXIT_DIAGNOSTICS = 3
TABLE_WIDTH = 100  # the widest line of a table the CLI prints


# Errors that mean "the user's input is wrong" while reading and validating input: the package's own
# (BayesScalingError), the built-in ones its input checks raise, and OSError for unreadable files.
INPUT_ERRORS = (BayesScalingError, ValueError, TypeError, OSError, KeyError)
# Errors the sampling step may raise for bad input (it re-validates the law and runs).
FIT_INPUT_ERRORS = (BayesScalingError,)


class LikelihoodChoice(enum.StrEnum):
    auto = "auto"
    student_t = "student_t"
    normal = "normal"


class DiscrepancyChoice(enum.StrEnum):
    auto = "auto"
    modular = "modular"
    none = "none"
    gp = "gp"


class KindChoice(enum.StrEnum):
    mean = "mean"
    predictive = "predictive"


# --------------------------------------------------------------------------- helpers
def err(message: str) -> None:
    typer.echo(message, err=True)


def fail(message: str, code: int = EXIT_INVALID_INPUT) -> typer.Exit:
    err(f"error: {message}")
    return typer.Exit(code)


def error_text(exc: BaseException) -> str:
    """One readable message for an expected error (no traceback)."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return cli_hints(str(exc) or type(exc).__name__)


API_HINTS = (  # Python-API wording in library messages -> the CLI's options
    (re.compile(r"load_runs\(\.\.\., (\w+)='your column'\)"), r"--col \1=YOUR_COLUMN"),
    (re.compile(r"\b(\w+)='your column'"), r"--col \1=YOUR_COLUMN"),
    (re.compile(r"\b(\w+)=\s*(?= and |:)"), r"--col \1=..."),
    (re.compile(r"pass dropna=True"), "pass --dropna"),
    (re.compile(r"\btune=(\d+)"), r"--tune \1"),
    (re.compile(r"\braise target_accept\b"), "raise --target-accept"),
)


def cli_hints(text: str) -> str:
    for pattern, replacement in API_HINTS:
        text = pattern.sub(replacement, text)
    return text


@contextlib.contextmanager
def user_errors(errors: tuple[type[BaseException], ...] = INPUT_ERRORS,
                 context: str = "") -> Iterator[None]:
    """Turn expected errors into ``error: ...`` on stderr and exit code 2."""
    try:
        yield
    except typer.Exit:
        raise
    except errors as exc:
        raise fail(f"{context}{error_text(exc)}") from None


@contextlib.contextmanager
def warnings_to_stderr(*ignore: type[Warning]) -> Iterator[None]:
    """Show warnings as one ``warning: ...`` line on stderr; drop the ``ignore`` categories. A library's
    warning, or numpy's floating-point warning (attributed to the line that called numpy), is labelled
    ``warning (RuntimeWarning at module.py:12): ...``: a defect to fix where it is raised (the tests
    fail on any), not something a user can act on."""

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, BayesScalingWarning):
            err(f"warning: {message}")
        else:
            err(f"warning ({category.__name__} at {Path(str(filename)).name}:{lineno}): {message}")

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        for category in ignore:
            warnings.simplefilter("ignore", category)
        warnings.showwarning = show
        yield


def format_table(frame: pd.DataFrame, width: int = TABLE_WIDTH) -> str:
    """A frame as text at most ``width`` characters wide: each interval as one ``median (lower–upper)``
    column, numbers to 4 significant digits, ESS as whole numbers; columns that do not fit on one line
    continue below (pandas' wrapping). ``--json`` gives every column in full."""
    frame = compact_intervals(frame)
    formatters = {c: fmt_count for c in frame.columns if str(c).startswith("ess_")}
    for c in frame.columns:
        if c not in formatters and pd.api.types.is_numeric_dtype(frame[c]) \
                and not pd.api.types.is_bool_dtype(frame[c]):
            formatters[c] = fmt_number
    if frame.index.name is not None:
        frame = frame.reset_index()
    return frame.to_string(formatters=formatters, index=False, line_width=width)


def text_table(frame: pd.DataFrame) -> str:
    """A frame of strings as a left-aligned text table (no index)."""
    cells = [[str(c) for c in frame.columns]] + [[str(v) for v in row] for row in frame.itertuples(index=False)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(frame.columns))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells)


def record_blocks(frame: pd.DataFrame, width: int = TABLE_WIDTH) -> str:
    """A frame of strings as one block per row, for rows too wide for a table: the first column, then
    each other column as ``name: value``, wrapped to ``width`` and indented under the first."""
    first, *rest = [str(c) for c in frame.columns]
    pad = min(max(len(str(v)) for v in frame[first]) + 2, 24)
    blocks = []
    for row in frame.astype(str).itertuples(index=False):
        head = row[0].ljust(pad)
        lines = []
        for name, value in zip(rest, row[1:]):
            lines += textwrap.wrap(f"{name}: {value}", width - pad, subsequent_indent="  ",
                                   break_on_hyphens=False) or [f"{name}:"]
        blocks.append("\n".join([head + lines[0], *(" " * pad + line for line in lines[1:])]))
    return "\n\n".join(blocks)


def jsonable(value: Any) -> Any:
    """Plain Python types for json.dumps; NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if value is None or isinstance(value, str):
        return value
    return str(value)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The frame as a list of row dicts (records orient); a named index becomes a column.

    Floats are kept exact (``json`` writes the shortest round-trip repr).
    """
    if frame.index.name is not None:
        frame = frame.reset_index()
    return [jsonable(dict(zip(frame.columns, row))) for row in frame.itertuples(index=False, name=None)]


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(jsonable(payload), indent=2, allow_nan=False))


def parse_columns(specs: list[str] | None) -> dict[str, str]:
    """``["N=params", "loss=val_loss"]`` -> ``{"N": "params", "loss": "val_loss"}``."""
    out: dict[str, str] = {}
    for spec in specs or []:
        canon, sep, user = spec.partition("=")
        canon, user = canon.strip(), user.strip()
        if not sep or not canon or not user:
            raise typer.BadParameter(f"{spec!r} is not CANONICAL=COLUMN (e.g. --col N=params)",
                                     param_hint="'--col'")
        if canon in out and out[canon] != user:
            raise typer.BadParameter(f"{canon!r} is mapped twice ({out[canon]!r} and {user!r})",
                                     param_hint="'--col'")
        out[canon] = user
    return out


def parse_number(text: str, option: str) -> float:
    """A positive number: ``7e10``, ``70B``, ``1.4T``, ``1,000``."""
    try:
        value = float(text)
    except ValueError:
        value = parse_size_suffix(text)
    if value is None or not math.isfinite(value):
        raise typer.BadParameter(f"{text!r} is not a number (e.g. 7e10 or 70B)", param_hint=f"'{option}'")
    return float(value)


def parse_inputs(specs: list[str] | None) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for spec in specs or []:
        name, sep, value = spec.partition("=")
        name = name.strip()
        if not sep or not name or not value.strip():
            raise typer.BadParameter(f"{spec!r} is not NAME=VALUE (e.g. --input step=1000)",
                                     param_hint="'--input'")
        out.setdefault(name, []).append(parse_number(value.strip(), "--input"))
    return out


def load_fit_file(path: Path):
    with user_errors(INPUT_ERRORS, context=f"cannot read fit file {path}: "):
        return load_fit(path)


def check_output(path: Path) -> None:
    """Fail early (before sampling) if the fit cannot be written to ``path``."""
    if path.is_dir():
        raise fail(f"output {path} is a directory; give a file name such as fit.nc")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise fail(f"cannot write {path}: {parent} is not a directory")
    import os

    if not os.access(parent, os.W_OK):
        raise fail(f"cannot write {path}: no write permission in {parent}")


def diagnostics_line(fit) -> str:
    return str(fit.diagnostics).splitlines()[0]


def fit_payload(fit, summary: pd.DataFrame, prob: float, **extra: Any) -> dict[str, Any]:
    return {"law": fit.law.name, "formula": fit.law.formula.source, "response": fit.law.response,
            "n_runs": len(fit.runs), "likelihood": fit.likelihood, "priors": fit.law.prior_source,
            "settings": fit.settings, **extra, "diagnostics": fit.diagnostics.to_dict(), "prob": prob,
            "summary": records(summary)}


def print_fit_header(fit, path: Path | None, verb: str) -> None:
    where = f" ({path})" if path is not None else ""
    diagnostics = diagnostics_line(fit) if fit.diagnostics.ok else cli_hints(str(fit.diagnostics))
    for line in (f"{verb} law {fit.law.name!r}{where}: {fit.law.formula.source}",
                 f"runs: {len(fit.runs)}; likelihood: {fit.likelihood}; priors: {fit.law.prior_source}",
                 *f"diagnostics: {diagnostics}".splitlines()):
        typer.echo(wrapped(line))


def wrapped(line: str, width: int = TABLE_WIDTH) -> str:
    """A line of prose wrapped to ``width``, its continuation lines indented by two more spaces."""
    indent = " " * (len(line) - len(line.lstrip()) + 2)
    return "\n".join(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False)) or line


def print_summary_table(summary: pd.DataFrame, prob: float) -> None:
    typer.echo(f"\nPosterior summary ({prob:.0%} equal-tailed intervals):")
    typer.echo(format_table(summary))
