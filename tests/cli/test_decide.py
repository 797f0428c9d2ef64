"""The decision commands ``recommend`` and ``next`` (bayes_scaling.cli.decide), on a saved mock fit."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.cli.test_commands import invoke


def test_recommend_prints_the_plan_with_hours_and_money(saved_fit):
    _, path = saved_fit
    res = invoke("recommend", path, "--gpu-hours", "1e6", "--accelerator", "H100", "--price-per-hour", "2.5")
    assert res.exit_code == 0, res.stderr
    assert "recommended" in res.stdout and "median N_opt" in res.stdout and "dollars" in res.stdout
    res = invoke("recommend", path, "--C", "1e23", "--inference-tokens", "1e12", "--json")
    rows = json.loads(res.stdout)
    assert rows[0]["plan"] == "recommended" and rows[0]["C"] == 1e23


@pytest.mark.parametrize("args, text", [
    (["--dollars", "1e6"], "needs hardware"),
    (["--C", "1e23", "--gpu-hours", "10"], "give the budget once"),
    (["--C", "-1e23"], "C must be finite and > 0"),
    (["--C", "1e23", "--price-per-hour", "2"], "needs a throughput"),
    (["--C", "1e23", "--tolerance", "2"], "tolerance must be in"),
    (["--dollars", "1e6", "--accelerator", "Z80"], "unknown accelerator"),
])
def test_recommend_bad_budgets_exit_2_with_the_reason(saved_fit, args, text):
    res = invoke("recommend", saved_fit[1], *args)
    assert res.exit_code == 2 and text in res.stderr, res.stderr


def test_next_from_a_saved_fit_writes_a_csv_to_launch(saved_fit, tmp_path):
    out = tmp_path / "next.csv"
    res = invoke("next", saved_fit[1], "--at", "1e23", "--budget", "1e20", "--k", "2", "-o", out)
    assert res.exit_code == 0, res.stderr
    table = pd.read_csv(out)
    assert {"N", "D", "C", "n_layer", "d_model", "n_heads", "expected_gain"} <= set(table.columns)
    assert 1 <= len(table) <= 2 and table["C"].sum() <= 1e20 * (1 + 1e-9)


def test_next_fits_a_runs_table_first(runs_csv, tmp_path, fake_sampler):
    calls = fake_sampler()
    out = tmp_path / "next.csv"
    res = invoke("next", runs_csv, "--col", "N=params", "--col", "D=tokens", "--col", "loss=val_loss",
                 "--at", "1e23", "--budget", "1e20", "-o", out, "--json")
    assert res.exit_code == 0, res.stderr
    assert len(calls) == 1 and out.exists()
    assert json.loads(res.stdout)[0]["rank"] == 1


def test_next_bad_input_exits_2_and_writes_nothing(saved_fit, tmp_path):
    out = tmp_path / "next.csv"
    res = invoke("next", saved_fit[1], "--at", "1e23", "--budget", "1e20", "--k", "0", "-o", out)
    assert res.exit_code == 2 and "k must be an integer >= 1" in res.stderr
    assert not out.exists()


def test_allocate_takes_budgets_in_hours_and_lifetime_inference(saved_fit):
    res = invoke("allocate", saved_fit[1], "--gpu-hours", "1e6", "--accelerator", "A100", "--json")
    assert res.exit_code == 0, res.stderr
    row = json.loads(res.stdout)[0]
    assert row["gpu_hours"] == 1e6 and row["C"] == pytest.approx(1e6 * 312e12 * 0.4 * 3600)
    res = invoke("allocate", saved_fit[1], "--C", "1e23", "--inference-tokens", "1e13")
    assert res.exit_code == 0 and "inference tokens" in res.stdout
