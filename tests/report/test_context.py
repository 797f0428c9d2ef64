"""The report: sections, escaping, Markdown, and a real browser loading the HTML (headless Chromium)."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

from bayes_scaling.report import report_context
from tests.helpers import mock_fit

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report_fit():
    return mock_fit()


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Chromium (.ci/run installs the Debian package 'chromium')")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return exe


def test_report_sections_and_headline(report_fit, tmp_path):
    path = report_fit.report(tmp_path / "r.html", budgets=[1e23, 1e24], target_loss=2.0,
                             plans=[{"name": "chinchilla", "N": 7e10, "D": 1.4e12}, {"N": 2.8e11, "D": 3e11}])
    text = path.read_text()
    for section in ("Data", "Sampler diagnostics", "Parameters", "Extrapolation", "Compute-optimal allocation",
                    "Budget questions", "Plots", "Caveats", "Reproducibility"):
        assert section in text, section
    headline = re.search(r"At 1e\+23 FLOPs \([^)]*your largest run\) the compute-optimal model has ([^<]+)",
                         text).group(1)
    assert re.search(r"\d\S* \(\d\S*–\d\S*\) parameters", headline)  # numbers with intervals
    assert report_fit.runs.sha256() in text
    target = re.search(r"<p>(To reach loss ≤ 2 with probability 90%[^<]+)</p>", text).group(1)
    decision, beside = target.split("the number to plan with")  # issue 18: one decision number, the rest explained
    assert len(re.findall(r"budget \S+ FLOPs", decision)) == 1 and "uncertainty alone" in beside
    assert text.count("<img ") >= 5 and "data:image/png;base64," in text
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text  # self-contained


def test_user_strings_are_escaped_in_html_and_markdown(tmp_path):
    fit = mock_fit()
    fit = dataclasses.replace(fit, law=dataclasses.replace(fit.law, title=EVIL))
    html = fit.report(tmp_path / "r.html", plans=[{"name": EVIL, "N": 7e10, "D": 1.4e12}],
                      title=EVIL).read_text()
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = fit.report(tmp_path / "r.md", title=EVIL).read_text()
    assert EVIL not in md and "&lt;script&gt;" in md
    assert (tmp_path / "r_files").is_dir() and list((tmp_path / "r_files").glob("*.png"))


def test_family_names_are_escaped(tmp_path):
    from tests.decisions.test_groups import make_grouped_fit

    fit = make_grouped_fit()
    evil_groups = tuple(EVIL if g == "big_alpha" else g for g in fit.structure.groups)
    post = fit.posterior.copy()
    post["posterior"] = post["posterior"].to_dataset().assign_coords(group=list(evil_groups))
    data = fit.runs.data.assign(group=fit.runs.data["group"].replace({"big_alpha": EVIL}))
    fit = dataclasses.replace(fit, posterior=post, runs=dataclasses.replace(fit.runs, data=data),
                              structure=dataclasses.replace(fit.structure, groups=evil_groups))
    html = fit.report(tmp_path / "g.html", budgets=[1e24]).read_text()
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Families" in html


def test_single_input_law_report(tmp_path):
    fit = mock_fit("kaplan_n", {"alpha_N": 0.076, "Nc": 8.8e13}, design={"N": np.logspace(6, 10, 20)})
    ctx = report_context(fit, plots=False)
    assert "allocation" not in ctx and ctx["answer"]
    assert fit.report(tmp_path / "n.html").is_file()


def test_model_checks_and_the_likelihood_choice_are_in_the_report(tmp_path):
    fit = mock_fit(likelihood="normal")
    check = "Normal noise is contradicted: 7 of 40 rows lie beyond 4 sigma of the fit"
    fit = dataclasses.replace(fit, diagnostics=dataclasses.replace(fit.diagnostics, checks=[check]),
                              settings={**fit.settings, "likelihood_choice": "auto: 40,000 rows with run effects"})
    ctx = report_context(fit, plots=False)
    assert f"Model check: {check}" in ctx["caveats"] and f"model check: {check}" in "\n".join(ctx["diagnostics"])
    md = fit.report(tmp_path / "r.md").read_text()
    assert "Likelihood: normal on log(loss) (auto: 40,000 rows with run effects)." in md
    assert md.count(check) >= 2  # caveat and diagnostics


def test_report_path_suffix(report_fit, tmp_path):
    with pytest.raises(ValueError, match="must end in .html or .md"):
        report_fit.report(tmp_path / "r.pdf")


def check_in_browser(path, tmp_path):
    """Load the HTML in headless Chromium at 1280 px: every image decoded, no table or image wider than the
    page (the report's own self-check: scrollWidth <= clientWidth for every table), no script or console
    error, a screenshot."""
    exe = _chromium()
    n_images = path.read_text().count("<img ")
    assert n_images >= 5
    flags = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--allow-file-access-from-files", "--virtual-time-budget=10000", "--window-size=1280,2000"]
    dom = subprocess.run(flags + ["--enable-logging=stderr", "--v=0", "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f'data-images-ok="{n_images}/{n_images}"' in dom.stdout, re.findall(r"data-images-ok=\"[^\"]*\"", dom.stdout)
    assert 'data-wide="none"' in dom.stdout, re.findall(r"data-wide=\"[^\"]*\"", dom.stdout)
    assert "data-errors" not in dom.stdout
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and
                      ("ERROR" in line or "Uncaught" in line)]
    assert not console_errors, console_errors
    shot = tmp_path / f"{path.stem}.png"
    subprocess.run(flags + [f"--screenshot={shot}", "--window-size=1200,2400", path.as_uri()],
                   capture_output=True, text=True, timeout=120, check=True)
    assert shot.is_file() and shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_browser_loads_report_with_images_and_no_errors(report_fit, tmp_path):
    check_in_browser(report_fit.report(tmp_path / "r.html", budgets=[1e23, 1e24]), tmp_path)


def test_report_asked_for_a_budget_answers_it_and_fits_the_page(report_fit, tmp_path):
    """Issue 18: a report for 5.76e23 FLOPs names that budget in its headline; nothing wider than the page."""
    path = report_fit.report(tmp_path / "gopher.html", budgets=[5.76e23])
    answer = re.search(r'<div class="answer">(.*?)</div>', path.read_text(), re.S).group(1)
    assert answer.strip().startswith("<p>At 5.76e+23 FLOPs (") and "your largest run)" in answer
    check_in_browser(path, tmp_path)


@pytest.mark.slow
def test_demo_report_in_the_browser(tmp_path):
    """`bayes-scaling demo -o out.html` (real sampler) writes a report a browser loads cleanly."""
    from typer.testing import CliRunner

    from bayes_scaling import cli

    _chromium()
    out = tmp_path / "out.html"
    result = CliRunner().invoke(cli.app, ["demo", "--draws", "300", "--no-progress", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    headline = re.search(r"the compute-optimal model has ([^<]+)", text).group(1)
    assert re.search(r"\d\S* \(\d\S*–\d\S*\) parameters .* loss \d\S* \(\d\S*–\d\S*\)", headline), headline
    check_in_browser(out, tmp_path)


def test_the_report_gives_the_reason_for_every_dropped_row(report_fit, tmp_path):
    """Issue 18: not a guess at the reason ('checkpoint warm-up or dropna'), the recorded one."""
    from bayes_scaling.data.drops import record_drop
    from bayes_scaling.report.notebook import fit_html

    runs = record_drop(report_fit.runs, "the loader's cleaning option drop_highest_loss (the 5 worst)", [0, 1, 2, 3, 4])
    fit = dataclasses.replace(report_fit, runs=runs)
    ctx = report_context(fit, plots=False, next_runs=False)
    assert ctx["drops"] == ["5 rows: the loader's cleaning option drop_highest_loss (the 5 worst) "
                            "(rows 0, 1, 2, 3 and 4)"]
    for name in ("r.md", "r.html"):
        text = fit.report(tmp_path / name, plots=False, next_runs=False).read_text()
        assert "Dropped 5 rows: the loader" in text
        assert "drop_highest_loss (the 5 worst) (rows 0, 1, 2, 3 and 4)" in text
    assert "dropped: 5 rows: the loader&#x27;s cleaning option drop_highest_loss" in fit_html(fit)
