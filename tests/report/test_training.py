"""The report's "what to train" section (bayes_scaling.report.training)."""

from __future__ import annotations

import pytest

import bayes_scaling as bs
from bayes_scaling.report.context import report_context
from tests.helpers import mock_fit


@pytest.fixture(scope="module")
def fit():
    return mock_fit(rel_sd=0.05, sigma=0.02, seed=3, draws=100)


def test_the_section_recommends_a_plan_and_the_next_runs(fit):
    hw = bs.Hardware.preset("H100", price_per_hour=2.0)
    ctx = report_context(fit, budgets=[1e22], plots=False, hardware=hw, plans={"70B": {"N": 7e10}},
                         next_runs={"k": 2})
    rec = ctx["recommendation"]
    assert rec["header"][:4] == ["C", "gpu_hours", "dollars", "plan"]
    assert [r[3] for r in rec["rows"]] == ["recommended", "median N_opt", "20 tokens/param", "70B"]
    assert "H100" in ctx["recommendation_cost"]
    assert any(s.startswith("To train at 1e+22 FLOPs (within the compute of your runs), pick N = ")
               for s in ctx["answer"]), ctx["answer"]
    assert 1 <= len(ctx["next_runs"]["rows"]) <= 2 and "n_layer" in ctx["next_runs"]["header"]
    assert "log N_opt at C = 1e+22" in ctx["next_runs_about"]
    assert "gpu_hours" in ctx["allocation"]["header"]


def test_the_next_runs_can_be_left_out_and_the_markdown_shows_the_section(fit, tmp_path):
    ctx = report_context(fit, budgets=[1e22], plots=False, next_runs=False)
    assert "recommendation" in ctx and "next_runs" not in ctx
    path = fit.report(tmp_path / "r.md", budgets=[1e22], next_runs={"k": 1})
    text = path.read_text()
    assert "## What to train" in text and "The runs to train next" in text


def test_one_headline_per_budget_asked_with_its_distance_in_words(fit):
    top = float(fit.runs.compute().max())
    ctx = report_context(fit, budgets=[5.76e23, 1e22], plots=False, next_runs=False)
    answers = " ".join(ctx["answer"])
    assert answers.index("At 5.76e+23 FLOPs") < answers.index("At 1e+22 FLOPs")  # the order asked
    assert f"({5.76e23 / top:.3g}x your largest run)" in answers
    assert "To train at 5.76e+23 FLOPs" in answers and "To train at 1e+22 FLOPs" in answers


def test_distance_words():
    from bayes_scaling.report.tables import distance_words

    assert distance_words(1e22, [1e18, 1e21]) == "10x your largest run"
    assert distance_words(1e20, [1e18, 1e21]) == "within the compute of your runs"
    assert distance_words(1e17, [1e18, 1e21]) == "10x below your smallest run"


def test_listing_the_laws_is_quiet_and_the_prior_plot_does_not_log(caplog):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(bs.list_laws()) >= 5
    import logging

    from bayes_scaling.core.progress import quiet_logger

    with quiet_logger("pymc"), caplog.at_level(logging.INFO):
        logging.getLogger("pymc").info("Sampling: [E]")
    assert "Sampling" not in caplog.text
