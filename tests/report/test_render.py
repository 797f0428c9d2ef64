"""Rendering the report: HTML (self-contained) or Markdown (images beside it), every user string escaped."""

from __future__ import annotations

import dataclasses

import pytest

from bayes_scaling.report.render import _md_escape, write_report
from tests.helpers import mock_fit


def test_markdown_escape():
    assert _md_escape("<b>a|b</b> & c") == "&lt;b&gt;a\\|b&lt;/b&gt; &amp; c"


def test_markdown_report_writes_its_images_beside_it(tmp_path):
    fit = mock_fit(n_runs=30)
    path = write_report(fit, tmp_path / "out" / "r.md", budgets=[1e22])
    text = path.read_text()
    images = sorted((tmp_path / "out" / "r_files").glob("*.png"))
    assert images and all(f"r_files/{p.name}" in text for p in images)
    assert text.startswith("# Scaling-law report")


def test_html_is_self_contained_and_escapes_the_title(tmp_path):
    fit = mock_fit(n_runs=30)
    law = dataclasses.replace(fit.law, title="<script>x</script>")
    path = write_report(dataclasses.replace(fit, law=law), tmp_path / "r.html", budgets=[1e22],
                        title="a <b>bold</b> title", plots=False)
    html = path.read_text()
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "a &lt;b&gt;bold&lt;/b&gt; title" in html and "<link" not in html  # nothing fetched from elsewhere


def test_suffix_must_say_html_or_markdown(tmp_path):
    with pytest.raises(ValueError, match="must end in .html or .md"):
        write_report(mock_fit(n_runs=30), tmp_path / "r.pdf")
