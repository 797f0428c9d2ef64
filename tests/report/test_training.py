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
    assert any(s.startswith("To train at 1e+22 FLOPs, pick N = ") for s in ctx["answer"]), ctx["answer"]
    assert 1 <= len(ctx["next_runs"]["rows"]) <= 2 and "n_layer" in ctx["next_runs"]["header"]
    assert "log N_opt at C = 1e+22" in ctx["next_runs_about"]
    assert "gpu_hours" in ctx["allocation"]["header"]


def test_the_next_runs_can_be_left_out_and_the_markdown_shows_the_section(fit, tmp_path):
    ctx = report_context(fit, budgets=[1e22], plots=False, next_runs=False)
    assert "recommendation" in ctx and "next_runs" not in ctx
    path = fit.report(tmp_path / "r.md", budgets=[1e22], next_runs={"k": 1})
    text = path.read_text()
    assert "## What to train" in text and "The runs to train next" in text
