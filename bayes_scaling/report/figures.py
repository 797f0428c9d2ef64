"""The report's figures: each plot drawn to PNG bytes; a plot that fails never sinks the report."""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..posterior.record import FitRecord

__all__ = ["figure_png", "report_plots"]


def figure_png(fig) -> bytes:
    """The figure as PNG bytes (110 dpi, tight), closed afterwards."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def report_plots(fit: FitRecord, budgets: Sequence[float], has_nd: bool) -> list[dict[str, Any]]:
    """Each plot as ``{title, png}`` or ``{title, error}``."""
    from .. import plots  # matplotlib: imported when a report is drawn, not with the package

    jobs = [("Fit to the data and extrapolation", lambda: plots.plot_fit(fit, budgets=budgets))]
    if has_nd and not fit.structure.varying:
        jobs += [("IsoFLOP curves", lambda: plots.plot_isoflop(fit, budgets)),
                 ("Compute-optimal frontier", lambda: plots.plot_frontier(fit, budgets=budgets))]
    if fit.structure.varying:
        jobs.append(("Families", lambda: plots.plot_families(fit, C=max(budgets))))
    jobs += [("Posterior of the parameters", lambda: plots.plot_posterior(fit)),
             ("Prior and posterior", lambda: plots.plot_prior_posterior(fit)),
             ("Posterior predictive check", lambda: plots.plot_ppc(fit)),
             ("Residuals", lambda: plots.plot_residuals(fit))]
    out = []
    for title, make in jobs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append({"title": title, "png": figure_png(make())})
        except Exception as exc:  # noqa: BLE001 - reported in the report's caveats
            out.append({"title": title, "error": f"{type(exc).__name__}: {exc}"})
    return out
