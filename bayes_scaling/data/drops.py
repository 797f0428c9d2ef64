"""Why rows were dropped: every drop (``dropna=True``, a dataset loader's cleaning option, the
checkpoint warm-up) is recorded on the :class:`~bayes_scaling.data.runs.Runs` with its reason and
the source's row labels, so that a report can say it rather than guess (issue 18).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .runs import Runs
from .validation import rows_text

__all__ = ["record_drop", "drop_lines"]


def record_drop(runs: Runs, reason: str, rows: Sequence) -> Runs:
    """``runs`` with ``rows`` (source labels, already removed from its data) recorded as dropped for
    ``reason``; nothing is recorded for no rows."""
    rows = tuple(r.item() if hasattr(r, "item") else r for r in rows)
    if not rows:
        return runs
    return replace(runs, dropped=runs.dropped + len(rows), drops=(*runs.drops, (str(reason), rows)))


def drop_lines(runs: Runs, *, with_rows: bool = True) -> list[str]:
    """One line per reason: ``"5 rows: loader option drop_highest_loss: ... (rows 3, 17, ...)"``.

    A table loaded before reasons were recorded (or built by hand with ``dropped=``) gets one line
    saying that the reason was not recorded."""
    lines = [f"{len(rows)} row{'s' * (len(rows) != 1)}: {reason}" + (f" ({rows_text(rows)})" if with_rows else "")
             for reason, rows in runs.drops]
    unknown = runs.dropped - sum(len(rows) for _, rows in runs.drops)
    if unknown > 0:
        lines.append(f"{unknown} row{'s' * (unknown != 1)}: reason not recorded (an older fit file)")
    return lines
