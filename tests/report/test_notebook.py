"""The notebook display of a fit."""

import dataclasses

from bayes_scaling.report.notebook import fit_html, headline_allocation
from tests.helpers import mock_fit


def test_repr_html_has_verdict_parameters_and_headline_allocation(chinchilla_mock_fit):
    out = chinchilla_mock_fit._repr_html_()
    assert "PASS" in out and "bs-summary" in out and "alpha" in out
    table = headline_allocation(chinchilla_mock_fit)
    assert len(table) == 2
    assert out.count("<li>C = ") == 2 and "decades beyond the data" in out


def test_repr_html_escapes_user_strings():
    fit = mock_fit()
    law = dataclasses.replace(fit.law, title="<script>alert(1)</script>")
    out = fit_html(dataclasses.replace(fit, law=law))
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_no_headline_for_single_input_law():
    import numpy as np

    fit = mock_fit("kaplan_n", {"alpha_N": 0.076, "Nc": 8.8e13}, design={"N": np.logspace(6, 10, 20)})
    assert headline_allocation(fit) is None
    assert "<li>" not in fit._repr_html_()


def test_repr_html_shows_model_checks():
    fit = mock_fit(likelihood="normal")
    assert "model check" not in fit._repr_html_()
    diag = dataclasses.replace(fit.diagnostics, checks=["Normal noise is contradicted: 3 of 40 rows <beyond>"])
    out = fit_html(dataclasses.replace(fit, diagnostics=diag))
    assert "model check</b>: Normal noise is contradicted: 3 of 40 rows &lt;beyond&gt;" in out


def test_the_verdict_is_shown_once_and_figures_are_chosen_per_column(chinchilla_mock_fit):
    out = chinchilla_mock_fit._repr_html_()
    assert out.count("PASS") == 1 and "(0 divergences in" in out
    summary = chinchilla_mock_fit.summary()
    ess = int(round(summary.loc["E", "ess_bulk"]))
    assert f">{ess}<" in out and f"{summary.loc['E', 'ess_bulk']:.4f}" not in out  # whole numbers
    assert f">{summary.loc['E', 'r_hat']:.3f}<" in out
    assert f">{summary.loc['alpha', 'median']:.4g}<" in out  # 4 significant digits, not 4 decimals
    assert ">0.0000<" not in out
