"""How a fit shows itself in Jupyter: law, data, diagnostics verdict, parameters and a headline allocation."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from ..core.formatting import column_formatter
from ..core.formatting import fmt as _fmt
from ..core.intervals import DEFAULT_PROB
from ..data.drops import drop_lines
from ..decisions.allocation import allocate

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["fit_html", "summary_html", "headline_allocation"]

_VERDICT_COLOURS = {"pass": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e"}


def headline_allocation(fit: FitRecord, multiples=(10, 100), prob: float = DEFAULT_PROB):
    """Allocation at ``multiples`` × the largest observed compute, or None when the law has no N and D."""
    import warnings

    if not {"N", "D"} <= set(fit.law.inputs.values()) or fit.structure.varying or fit.discrepancy is not None:
        return None
    c_max = float(fit.runs.compute().max())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return allocate(fit, [m * c_max for m in multiples], prob=prob)


def summary_html(summary) -> str:
    """The parameter table with figures chosen per column: 4 significant digits for the estimates, 3 for
    the spreads and the Monte-Carlo error, whole effective sample sizes, R-hat to 3 decimals."""
    return pd.DataFrame(summary).to_html(classes="bs-summary",
                                         formatters={c: column_formatter(str(c)) for c in summary.columns})


def fit_html(fit: FitRecord) -> str:
    """The HTML of ``Fit._repr_html_`` (every user-provided string escaped)."""
    d = fit.diagnostics
    colour = _VERDICT_COLOURS.get(d.verdict, "#57606a")
    parts = [f"<div class='bayes-scaling-fit'><b>{html.escape(fit.law.title)}</b><br>",
             f"{len(fit.runs)} runs"]
    if fit.structure.varying:
        parts.append(f", groups {html.escape(', '.join(fit.structure.groups))} "
                     f"(varying: {html.escape(', '.join(fit.structure.varying))})")
    if fit.runs.dropped:
        parts.append(f" (dropped: {html.escape('; '.join(drop_lines(fit.runs, with_rows=False)))})")
    if fit.discrepancy is not None:
        parts.append("; law + GP model discrepancy (predictions only)")
    if fit.structural is not None:
        parts.append(f"; {html.escape(fit.structural.summary())}")
    detail = str(d).splitlines()[0].split(": ", 1)[-1]  # the verdict is shown once, in colour
    parts.append(f"; {html.escape(fit.likelihood)} likelihood; diagnostics: "
                 f"<b style='color:{colour}'>{html.escape(d.verdict.upper())}</b> ({html.escape(detail)})")
    tails = fit.heavy_tail_note()
    parts += [f"<br><b style='color:{_VERDICT_COLOURS['warn']}'>model check</b>: {html.escape(c)}"
              for c in [*d.checks, *([tails] if tails else [])]]
    parts.append(summary_html(fit.summary()))
    table = headline_allocation(fit)
    if table is not None:
        parts.append(f"<p>Compute-optimal allocation ({table.attrs['prob']:.0%} intervals):</p><ul>")
        for _, r in table.iterrows():
            parts.append(
                f"<li>C = {_fmt(r['C'])} FLOPs ({r['decades_beyond_data']:.1f} decades beyond the data): "
                f"N = {_fmt(r['N_opt_median'])} ({_fmt(r['N_opt_lower'])}–{_fmt(r['N_opt_upper'])}), "
                f"D = {_fmt(r['D_opt_median'])} ({_fmt(r['D_opt_lower'])}–{_fmt(r['D_opt_upper'])}) tokens, "
                f"loss {r['loss_opt_median']:.3f} ({r['loss_opt_lower']:.3f}–{r['loss_opt_upper']:.3f})</li>")
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)
