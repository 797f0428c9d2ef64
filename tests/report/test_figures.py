"""The report's figures: PNG bytes per plot, and a failing plot reported rather than fatal."""

from __future__ import annotations

from bayes_scaling import plots
from bayes_scaling.report.figures import figure_png, report_plots
from tests.helpers import mock_fit


def test_every_plot_of_a_law_of_n_and_d_is_drawn():
    fit = mock_fit(n_runs=30)
    out = report_plots(fit, [1e22], has_nd=True)
    titles = [p["title"] for p in out]
    assert titles[:3] == ["Fit to the data and extrapolation", "IsoFLOP curves", "Compute-optimal frontier"]
    assert all("png" in p and p["png"].startswith(b"\x89PNG") for p in out), [p.get("error") for p in out]


def test_a_plot_that_fails_is_named_with_its_error(monkeypatch):
    import matplotlib.pyplot as plt

    def broken(*args, **kwargs):
        raise RuntimeError("no ink")

    for name in plots.__all__:
        monkeypatch.setattr(plots, name, lambda *a, **k: plt.figure())
    monkeypatch.setattr(plots, "plot_residuals", broken)
    out = report_plots(mock_fit(n_runs=30), [1e22], has_nd=True)
    assert {"title": "Residuals", "error": "RuntimeError: no ink"} in out
    assert sum("png" in p for p in out) == len(out) - 1


def test_figure_png_closes_the_figure():
    import matplotlib.pyplot as plt

    fig = plt.figure()
    data = figure_png(fig)
    assert data.startswith(b"\x89PNG") and not plt.fignum_exists(fig.number)
