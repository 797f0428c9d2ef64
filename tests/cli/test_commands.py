"""Tests of the command-line interface (typer's CliRunner; stdout and stderr are kept apart).

The fast tests never run the sampler: ``fit`` is monkeypatched to return a mock
fit and ``summary``/``predict`` read a saved mock fit. One slow test runs the
real demo.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import bayes_scaling as bs
from bayes_scaling import cli
from bayes_scaling.data.synthetic import chinchilla_design
from tests.helpers import CHINCHILLA_TRUTH, mock_fit

runner = CliRunner()

COLS = ["--col", "N=params", "--col", "D=tokens", "--col", "loss=val_loss"]


def invoke(*args):
    return runner.invoke(cli.app, [str(a) for a in args])


@pytest.fixture
def runs_csv(tmp_path):
    """A valid runs table under user column names (params, tokens, val_loss)."""
    frame = bs.simulate("chinchilla", CHINCHILLA_TRUTH, chinchilla_design(30, seed=1), noise=0.01, seed=1)
    frame = frame.rename(columns={"N": "params", "D": "tokens", "loss": "val_loss"})
    path = tmp_path / "runs.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def saved_fit(tmp_path_factory):
    fit = mock_fit()
    path = fit.save(tmp_path_factory.mktemp("fit") / "fit.nc")
    return fit, path


@pytest.fixture
def fake_sampler(monkeypatch):
    """Replace the sampler step of ``fit`` by a mock fit; records the call's arguments."""
    calls = []

    def install(**mock_kwargs):
        def fake_fit(runs, **kwargs):
            calls.append({"runs": runs, **kwargs})
            return mock_fit(**mock_kwargs)

        monkeypatch.setattr(cli.commands, "fit_law", fake_fit)
        return calls

    return install


def test_exit_codes_are_documented():
    assert (cli.EXIT_INVALID_INPUT, cli.EXIT_DIAGNOSTICS) == (2, 3)
    result = invoke("--help")
    assert result.exit_code == 0
    assert "Exit codes" in result.stdout and "2 invalid input" in result.stdout
    assert "3 the fit's sampler diagnostics" in result.stdout


# --------------------------------------------------------------------------- laws
def test_laws_lists_every_shipped_law():
    result = invoke("laws")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # one block per law, wrapped at 100 columns
    for spec in bs.list_laws():
        assert f"\n{spec.name} " in "\n" + result.stdout
        assert f"formula: {' '.join(spec.formula.source.split())}" in text
    for field in ("inputs:", "response:", "presets:", "citation:"):
        assert result.stdout.count(field) == len(bs.law_names())
    assert "hoffmann2022" in result.stdout


def test_laws_json():
    result = invoke("laws", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == bs.law_names()


# --------------------------------------------------------------------------- fit: invalid input
def test_fit_non_numeric_value_exits_2_and_names_the_column(runs_csv, tmp_path, fake_sampler):
    calls = fake_sampler()
    frame = pd.read_csv(runs_csv).astype({"params": object})
    frame.loc[3, "params"] = "7B"
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad, index=False)
    result = invoke("fit", bad, *COLS, "-o", tmp_path / "fit.nc")
    assert result.exit_code == cli.EXIT_INVALID_INPUT
    assert "'params'" in result.stderr and "'7B'" in result.stderr and "row 3" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert not calls and not (tmp_path / "fit.nc").exists()


def test_fit_unknown_law_exits_2(runs_csv, tmp_path, fake_sampler):
    calls = fake_sampler()
    result = invoke("fit", runs_csv, "--law", "chinchila", *COLS, "-o", tmp_path / "fit.nc")
    assert result.exit_code == 2
    assert "unknown law 'chinchila'" in result.stderr and "did you mean 'chinchilla'" in result.stderr
    assert "Traceback" not in result.output and not calls


def test_fit_unknown_prior_preset_exits_2(runs_csv, tmp_path, fake_sampler):
    fake_sampler()
    result = invoke("fit", runs_csv, *COLS, "--priors", "nope", "-o", tmp_path / "fit.nc")
    assert result.exit_code == 2
    assert "no prior preset 'nope'" in result.stderr


@pytest.mark.parametrize("spec", ["N", "N=", "=params", "Nparams"])
def test_fit_malformed_col_is_a_usage_error(runs_csv, tmp_path, fake_sampler, spec):
    calls = fake_sampler()
    result = invoke("fit", runs_csv, "--col", spec, "-o", tmp_path / "fit.nc")
    assert result.exit_code == 2
    assert "--col" in result.stderr and "CANONICAL=COLUMN" in result.stderr
    assert not calls


def test_fit_unknown_canonical_column_exits_2(runs_csv, tmp_path, fake_sampler):
    fake_sampler()
    result = invoke("fit", runs_csv, "--col", "Nparams=params", "-o", tmp_path / "fit.nc")
    assert result.exit_code == 2
    assert "unknown column keyword 'Nparams'" in result.stderr


def test_fit_missing_column_hint_uses_cli_options(runs_csv, tmp_path, fake_sampler):
    fake_sampler()
    result = invoke("fit", runs_csv, "--col", "N=params", "--col", "loss=val_loss", "-o", tmp_path / "f.nc")
    assert result.exit_code == 2
    assert "--col D=YOUR_COLUMN" in result.stderr and "load_runs" not in result.stderr


@pytest.mark.parametrize("args, text", [
    (["--flops-per-token", "-1"], "flops_per_token must be finite and > 0"),
    (["--likelihood", "cauchy"], "--likelihood"),
    (["--prob", "1.5"], "--prob"),
    (["--draws", "0"], "--draws"),
])
def test_fit_bad_options_exit_2(runs_csv, tmp_path, fake_sampler, args, text):
    calls = fake_sampler()
    result = invoke("fit", runs_csv, *COLS, *args, "-o", tmp_path / "fit.nc")
    assert result.exit_code == 2
    assert text in result.stderr and not calls


def test_fit_missing_runs_file_exits_2(tmp_path, fake_sampler):
    fake_sampler()
    result = invoke("fit", tmp_path / "nope.csv", "-o", tmp_path / "fit.nc")
    assert result.exit_code == 2
    assert "not found" in result.stderr and "nope.csv" in result.stderr
    assert "Traceback" not in result.output


def test_fit_output_is_a_directory_exits_2(runs_csv, tmp_path, fake_sampler):
    calls = fake_sampler()
    result = invoke("fit", runs_csv, *COLS, "-o", tmp_path)
    assert result.exit_code == 2 and "is a directory" in result.stderr and not calls


# --------------------------------------------------------------------------- fit: success and diagnostics
def test_fit_saves_and_prints_summary(runs_csv, tmp_path, fake_sampler):
    calls = fake_sampler()
    out = tmp_path / "sub" / "fit.nc"
    result = invoke("fit", runs_csv, *COLS, "-o", out, "--draws", 200, "--tune", 300, "--chains", 2,
                    "--seed", 7, "--likelihood", "normal", "--priors", "hoffmann2022", "--no-progress")
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert bs.load_fit(out).law.name == "chinchilla"
    assert "PASS" in result.stdout and "alpha" in result.stdout and "r_hat" in result.stdout
    (call,) = calls
    assert (call["draws"], call["tune"], call["chains"], call["seed"]) == (200, 300, 2, 7)
    assert call["likelihood"] == "normal" and call["progress"] is False
    assert call["law"].prior_source == "hoffmann2022"
    assert len(call["runs"]) == 30 and call["runs"].columns == {"N": "params", "D": "tokens",
                                                                "loss": "val_loss"}


def test_fit_likelihood_and_discrepancy_default_to_auto(runs_csv, tmp_path, fake_sampler):
    calls = fake_sampler()
    result = invoke("fit", runs_csv, *COLS, "-o", tmp_path / "fit.nc", "--no-progress")
    assert result.exit_code == 0, result.output
    assert calls[0]["likelihood"] == "auto"  # bs.fit resolves it (Student-t here: no run effects)
    assert calls[0]["discrepancy"] == "auto" and calls[0]["tune"] is None  # bs.fit resolves both (structural term)
    result = invoke("fit", runs_csv, *COLS, "-o", tmp_path / "fit.nc", "--discrepancy", "gp")
    assert result.exit_code == 0, result.output
    assert calls[1]["discrepancy"] == "gp"
    result = invoke("fit", runs_csv, *COLS, "-o", tmp_path / "fit.nc", "--discrepancy", "none")
    assert result.exit_code == 0, result.output
    assert calls[2]["discrepancy"] is None


def test_fit_unsupported_discrepancy_exits_2(runs_csv, tmp_path, monkeypatch):
    from bayes_scaling import DiscrepancyError

    def refuse(runs, **kwargs):
        raise DiscrepancyError("discrepancy='gp' does not combine with groups (pooled=) or run effects yet")

    monkeypatch.setattr(cli.commands, "fit_law", refuse)
    result = invoke("fit", runs_csv, *COLS, "-o", tmp_path / "fit.nc", "--discrepancy", "gp")
    assert result.exit_code == 2 and "run effects" in result.stderr and "Traceback" not in result.output


def test_fit_json_is_only_json(runs_csv, tmp_path, fake_sampler):
    fake_sampler()
    result = invoke("fit", runs_csv, *COLS, "-o", tmp_path / "fit.nc", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["law"] == "chinchilla" and payload["diagnostics"]["ok"] is True
    assert {r["parameter"] for r in payload["summary"]} == {"E", "A", "B", "alpha", "beta", "sigma", "nu"}


def test_fit_failing_diagnostics_exit_3_but_saves(runs_csv, tmp_path, fake_sampler):
    fake_sampler(divergences=50)
    out = tmp_path / "fit.nc"
    result = invoke("fit", runs_csv, *COLS, "-o", out)
    assert result.exit_code == cli.EXIT_DIAGNOSTICS
    assert out.is_file()
    assert "not ok" in result.stderr and "still saved" in result.stderr and str(out) in result.stderr
    assert "divergent" in result.stderr
    assert "Traceback" not in result.output


def test_fit_failing_diagnostics_allowed(runs_csv, tmp_path, fake_sampler):
    fake_sampler(divergences=50)
    out = tmp_path / "fit.nc"
    result = invoke("fit", runs_csv, *COLS, "-o", out, "--allow-warnings", "--json")
    assert result.exit_code == 0
    assert out.is_file()
    assert json.loads(result.stdout)["diagnostics"]["verdict"] == "fail"
    assert "not ok" in result.stderr


# --------------------------------------------------------------------------- summary / predict
def test_summary_of_saved_fit(saved_fit):
    fit, path = saved_fit
    result = invoke("summary", path)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "chinchilla" in out and "runs: 40" in out and "PASS" in out
    for name in fit.parameter_names:
        assert name in out


def test_summary_json_matches_api(saved_fit):
    fit, path = saved_fit
    result = invoke("summary", path, "--prob", 0.8, "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["n_runs"] == 40 and payload["law"] == "chinchilla" and payload["prob"] == 0.8
    table = pd.DataFrame(payload["summary"]).set_index("parameter")
    expected = fit.summary(0.8)
    assert list(table.index) == list(expected.index)
    np.testing.assert_allclose(table[["median", "lower", "upper"]].to_numpy(),
                               expected[["median", "lower", "upper"]].to_numpy(), rtol=1e-12)


def test_summary_missing_or_invalid_file_exits_2(tmp_path, runs_csv):
    result = invoke("summary", tmp_path / "nope.nc")
    assert result.exit_code == 2 and "nope.nc" in result.stderr
    result = invoke("summary", runs_csv)
    assert result.exit_code == 2 and "cannot read fit file" in result.stderr
    assert "Traceback" not in result.output


def test_predict_json_equals_api_with_repeated_options(saved_fit):
    fit, path = saved_fit
    result = invoke("predict", path, "--N", "7e10", "--N", "1e11", "--D", "1.4e12", "--D", "2e12",
                    "--prob", 0.8, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = fit.predict(N=[7e10, 1e11], D=[1.4e12, 2e12], prob=0.8)
    assert len(rows) == 2
    for row, (_, exp) in zip(rows, expected.iterrows()):
        assert set(row) == set(expected.columns)
        for col in expected.columns:
            assert row[col] == pytest.approx(exp[col], rel=1e-12)


def test_predict_predictive_and_size_suffixes(saved_fit):
    fit, path = saved_fit
    result = invoke("predict", path, "--N", "70B", "--C", "5.88e23", "--kind", "predictive", "--seed", 3,
                    "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    exp = fit.predict(N=70e9, C=5.88e23, kind="predictive", seed=3).iloc[0]
    assert row["D"] == pytest.approx(1.4e12)
    assert row["loss_median"] == pytest.approx(exp["loss_median"], rel=1e-12)
    assert row["loss_upper"] == pytest.approx(exp["loss_upper"], rel=1e-12)


def test_predict_table(saved_fit):
    _, path = saved_fit
    result = invoke("predict", path, "--N", "7e10", "--D", "1.4e12")
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[1].split()
    assert header[:3] == ["N", "D", "C"]
    assert {"loss", "decades_beyond_data"} <= set(header)  # the interval in one cell: median (lower–upper)
    assert "7e+10" in result.stdout and "–" in result.stdout.splitlines()[2]


@pytest.mark.parametrize("args, text", [
    (["--N", "7e10"], "needs input(s) ['D']"),
    (["--N", "1e9", "--N", "2e9", "--D", "1e10", "--D", "2e10", "--D", "3e10"], "one common length"),
    (["--N", "seven", "--D", "1e10"], "not a number"),
    (["--N", "-1", "--D", "1e10"], "finite and > 0"),
    (["--N", "1e9", "--D", "1e10", "--prob", "2"], "prob must be in (0, 1)"),
    (["--N", "1e9", "--D", "1e10", "--kind", "sample"], "--kind"),
    (["--N", "1e9", "--input", "step"], "NAME=VALUE"),
    (["--N", "1e9", "--D", "1e10", "--input", "step=100"], "takes no input"),
    ([], "give the inputs"),
])
def test_predict_invalid_input_exits_2(saved_fit, args, text):
    _, path = saved_fit
    result = invoke("predict", path, *args)
    assert result.exit_code == 2, result.output
    assert text in result.stderr
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- demo
def test_demo_runs_has_the_demo_columns():
    frame = cli.demo_runs()
    assert {"N", "D", "loss"} <= set(frame.columns)
    assert len(frame) >= 20


def test_demo_output_suffix_is_checked(fake_sampler, tmp_path):
    calls = fake_sampler()
    result = invoke("demo", "-o", tmp_path / "report.txt")
    assert result.exit_code == 2
    assert ".html or .md" in result.stderr and not calls


def test_demo_writes_a_report(fake_sampler, tmp_path):
    fake_sampler()
    result = invoke("demo", "--no-progress", "-o", tmp_path / "demo.html")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "demo.html").read_text()
    assert "compute-optimal model has" in text and "<img" in text


def test_report_command(saved_fit, tmp_path):
    _, path = saved_fit
    out = tmp_path / "r.md"
    result = invoke("report", path, "--budget", "1e24", "--target-loss", "2.0", "-o", out)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "At 1e+24 FLOPs (" in text and "Compute for the target loss" in text
    assert invoke("report", path, "-o", tmp_path / "r.pdf").exit_code == cli.EXIT_INVALID_INPUT
    assert invoke("report", tmp_path / "missing.nc", "-o", out).exit_code == cli.EXIT_INVALID_INPUT


@pytest.mark.slow
def test_demo_runs_the_real_sampler(tmp_path):
    out = tmp_path / "demo.nc"
    result = invoke("demo", "--draws", 300, "--no-progress", "-o", out)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.split()[:3] == ["budget", "N", "D"]).split()
    assert "loss" in header and "loss_median" not in header  # the interval in one cell: median (lower–upper)
    assert sum(line.split()[0].endswith("x") for line in lines if line.strip()) >= 3
    assert "alpha" in result.stdout and "diagnostics:" in result.stdout
    assert bs.load_fit(out).law.name == "chinchilla"


def test_allocate_json_equals_api(saved_fit):
    fit, path = saved_fit
    result = invoke("allocate", path, "--C", "1e23", "--C", "1e24", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = fit.allocate([1e23, 1e24])
    assert [r["N_opt_median"] for r in rows] == pytest.approx(expected["N_opt_median"].tolist(), rel=1e-12)
    assert "note:" in result.stderr  # the budgets lie beyond the data


def test_allocate_table_and_errors(saved_fit, tmp_path):
    _, path = saved_fit
    result = invoke("allocate", path, "--C", "1e22")
    assert result.exit_code == 0, result.output
    assert " N_opt " in result.stdout.splitlines()[1] + " " and "closed_form" in result.stdout
    bad = invoke("allocate", path, "--C", "-1")
    assert bad.exit_code == cli.EXIT_INVALID_INPUT
    one_input = mock_fit("kaplan_n", {"alpha_N": 0.076, "Nc": 8.8e13},
                         design={"N": np.exp(np.linspace(np.log(1e6), np.log(1e10), 20))})
    p2 = one_input.save(tmp_path / "n.nc")
    res = invoke("allocate", p2, "--C", "1e22")
    assert res.exit_code == cli.EXIT_INVALID_INPUT and "needs a law of N and D" in res.stderr
    res = invoke("allocate", path, "--C", "1e22", "--group", "a")
    assert res.exit_code == cli.EXIT_INVALID_INPUT and "no per-group parameters" in res.stderr


def test_compare_without_refit(tmp_path):
    import dataclasses

    from tests.helpers import mock_posterior

    a = mock_fit(seed=0)
    off = dataclasses.replace(a, posterior=mock_posterior(a.law, a.runs, {**CHINCHILLA_TRUTH, "alpha": 0.30}))
    pa, pb = a.save(tmp_path / "true.nc"), off.save(tmp_path / "off.nc")
    result = invoke("compare", pa, pb, "--no-refit", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["law"] for r in rows][0] == "true"
    assert invoke("compare", pa).exit_code == cli.EXIT_INVALID_INPUT
