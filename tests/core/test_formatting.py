"""How numbers are written: one module for messages, tables, the report, the CLI and plots."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_scaling.core.formatting import exact, fmt, fmt_count, fmt_number, interval_text, math_number


@pytest.mark.parametrize("x, text", [(7e9, "7e9"), (1234567.0, "1234567"), (0.1, "0.1"), (1e-5, "1e-5"),
                                      (1.2345678901234567, "1.2345678901234567")])
def test_exact_reads_back_the_same_float(x, text):
    assert exact(x) == text and float(exact(x)) == x


def test_fmt_for_prose_and_tables():
    assert fmt(1.4e12) == "1.4e+12" and fmt(0.123456) == "0.123"
    assert fmt(12345) == "12,345" and fmt(np.int64(5_000_000)) == "5e+06"
    assert fmt(float("nan")) == "–" and fmt(None) == "–" and fmt(np.inf) == "∞" and fmt(-np.inf) == "−∞"
    assert fmt(True) == "True" and fmt("label") == "label"
    assert interval_text(2.0, 1.5, 2.5) == "2 (1.5–2.5)"


def test_command_line_columns():
    assert fmt_number(7e10) == "7e+10" and fmt_number(1.23456) == "1.235" and fmt_number(None) == "nan"
    assert fmt_count(3881.4483) == "3881" and fmt_count(float("nan")) == "nan" and fmt_count("x") == "x"


def test_math_number_for_plot_labels():
    assert math_number(1e21) == "$10^{21}$"
    assert math_number(5.76e23, "FLOPs") == r"$5.8\times10^{23}$ FLOPs"
    assert math_number(20) == "20"


def test_short_labels_for_figures():
    from bayes_scaling.core.formatting import short_label

    assert short_label("llama") == "llama"
    long = "a" * 30 + "MIDDLE" + "z" * 100_000
    out = short_label(long)
    assert len(out) == 40 and out.startswith("a" * 20) and out.endswith("z" * 19) and "…" in out
    assert short_label(12345) == "12345"


def test_figures_shorten_a_huge_group_label():
    import dataclasses

    import matplotlib

    matplotlib.use("Agg")
    from bayes_scaling import plots
    from tests.decisions.test_groups import make_grouped_fit

    fit = make_grouped_fit()
    name = "x" * 100_000
    groups = tuple(name if g == "big_alpha" else g for g in fit.structure.groups)
    post = fit.posterior.copy()
    post["posterior"] = post["posterior"].to_dataset().assign_coords(group=list(groups))
    data = fit.runs.data.assign(group=fit.runs.data["group"].replace({"big_alpha": name}))
    fit = dataclasses.replace(fit, posterior=post, runs=dataclasses.replace(fit.runs, data=data),
                              structure=dataclasses.replace(fit.structure, groups=groups))
    for fig in (plots.plot_residuals(fit), plots.plot_families(fit, C=1e24), plots.plot_fit(fit)):
        texts = [t.get_text() for ax in fig.axes for t in (*ax.get_xticklabels(), *ax.get_yticklabels(), *ax.texts)]
        texts += [t.get_text() for leg in fig.legends for t in leg.get_texts()]
        texts += [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
        assert max(len(t) for t in texts) < 200
