"""Plots on mock posteriors (no sampler): each returns a Figure with the expected panels, labels,
log axes and extrapolation shading, and the curves agree with the Fit API they are drawn from."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bayes_scaling import (
    Fit,  # noqa: E402
    plots,  # noqa: E402
)
from bayes_scaling.data.synthetic import log_grid  # noqa: E402
from bayes_scaling.plots._data import PLOT_DRAWS  # noqa: E402
from bayes_scaling.plots.frontier import hoffmann2022_frontier, kaplan2020_frontier  # noqa: E402
from tests.decisions.test_groups import GROUPS  # noqa: E402
from tests.helpers import mock_fit  # noqa: E402


def grouped_fit() -> Fit:
    """A hierarchical Chinchilla fit (alpha and E per group) on a mock posterior."""
    from tests.decisions.test_groups import make_grouped_fit

    return make_grouped_fit()


@pytest.fixture(scope="module")
def chin():
    return mock_fit()


@pytest.fixture(scope="module")
def kaplan_n():
    return mock_fit(law_name="kaplan_n", truth={"alpha_N": 0.076, "Nc": 8.8e13},
                    design={"N": log_grid(1e6, 1e10, 20)})


@pytest.fixture(scope="module")
def grouped():
    return grouped_fit()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def shaded(ax) -> list:
    return [p for p in ax.patches if p.get_gid() == "extrapolation"]


def line_labels(ax) -> list[str]:
    return [ln.get_label() for ln in ax.get_lines() if not ln.get_label().startswith("_")]


# --------------------------------------------------------------------------- plot_fit
def test_plot_fit_two_panels_with_extrapolation(chin):
    budgets = [1e22, 5.76e23]
    fig = plots.plot_fit(chin, budgets=budgets)
    assert isinstance(fig, Figure)
    ax_n, ax_c, cbar = fig.axes  # N panel, C panel, colour bar of D/N
    assert ax_n.get_xlabel() == "N (parameters)" and ax_c.get_xlabel() == "C (FLOPs)"
    assert ax_n.get_ylabel() == ax_c.get_ylabel() == "loss (nats/token)"
    assert ax_n.get_xscale() == ax_c.get_xscale() == "log"
    assert "tokens per parameter" in cbar.get_ylabel()
    assert len([lb for lb in line_labels(ax_n) if lb.startswith("D/N = ")]) == 3  # 10/50/90% D/N slices
    c_max = chin.runs.values("C").max()
    right = [p for p in shaded(ax_c) if p.get_x() >= c_max * 0.999]
    assert right and ax_c.get_xlim()[1] > 5.76e23  # shaded beyond the data, out to the budgets
    # the solid part of the C curve is fit.allocate's median loss (50% and 90% bands: 4 fills)
    solid = next(ln for ln in ax_c.get_lines() if ln.get_label() == "compute-optimal loss (median)")
    x, y = solid.get_data()
    ref = chin.thin(PLOT_DRAWS).allocate(x[len(x) // 2])["loss_opt_median"].iloc[0]  # plots thin the posterior
    assert y[len(x) // 2] == pytest.approx(ref, rel=1e-3)
    assert sum(1 for c in ax_c.collections if type(c).__name__ == "FillBetweenPolyCollection"
               or type(c).__name__ == "PolyCollection") >= 2


def test_plot_fit_one_input_law_degrades_to_one_panel(kaplan_n):
    fig = plots.plot_fit(kaplan_n, prob=0.9)
    (ax,) = fig.axes
    assert ax.get_xlabel() == "N (parameters)" and ax.get_ylabel() == "loss (nats/token)"
    assert ax.get_xscale() == "log" and shaded(ax)
    med = next(ln for ln in ax.get_lines() if ln.get_label() == "posterior median")
    x, y = med.get_data()
    assert y[len(x) // 2] == pytest.approx(kaplan_n.predict(N=x[len(x) // 2])["loss_median"].iloc[0], rel=1e-3)
    with pytest.warns(UserWarning, match="budgets are ignored"):
        plots.plot_fit(kaplan_n, budgets=[1e22])


def test_plot_fit_one_colour_per_group(grouped):
    fig = plots.plot_fit(grouped)
    ax_n, ax_c = fig.axes  # no D/N colour bar: colour means group
    for ax in (ax_n, ax_c):
        assert set(GROUPS) <= set(line_labels(ax))
        colors = {ln.get_color() for ln in ax.get_lines() if ln.get_label() in GROUPS}
        assert len(colors) == 2
    one = plots.plot_fit(grouped, group="big_alpha")
    assert "big_alpha" in one._suptitle.get_text()
    c_max = grouped.for_group("big_alpha").runs.values("C").max()  # that group's data, not all groups'
    assert max(p.get_x() for p in shaded(one.axes[1])) == pytest.approx(c_max)
    with pytest.raises(ValueError, match="unknown group"):
        plots.plot_fit(grouped, group="nope")


def test_plot_fit_rejects_bad_options(chin):
    with pytest.raises(ValueError, match="prob"):
        plots.plot_fit(chin, prob=1.5)
    with pytest.raises(ValueError, match="budgets"):
        plots.plot_fit(chin, budgets=[-1.0])


# --------------------------------------------------------------------------- plot_isoflop
def test_plot_isoflop_curves_and_optimum(chin):
    budgets = [1e20, 1e21, 1e22]
    fig = plots.plot_isoflop(chin, budgets, prob=0.9)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "N (parameters)"
    assert ax.get_ylabel() == "loss (nats/token)"
    assert len([lb for lb in line_labels(ax) if lb.startswith("C = ")]) == 3
    assert shaded(ax)  # N beyond the observed sizes
    alloc = chin.thin(PLOT_DRAWS).allocate(budgets, prob=0.9)
    markers = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    xs = sorted(float(ln.get_xdata()[0]) for ln in markers)
    np.testing.assert_allclose(xs, np.sort(alloc["N_opt_median"]), rtol=1e-9)


def test_plot_isoflop_needs_n_and_d(kaplan_n, grouped):
    with pytest.raises(ValueError, match="needs a law of N and D"):
        plots.plot_isoflop(kaplan_n, [1e20])
    fig = plots.plot_isoflop(grouped, [1e21])  # one panel per group
    assert [ax.get_title() for ax in fig.axes] == list(grouped.groups)


# --------------------------------------------------------------------------- plot_frontier
def test_plot_frontier_with_references(chin):
    fig = plots.plot_frontier(chin, budgets=[5.76e23])
    ax_n, ax_d = fig.axes
    for ax, label in ((ax_n, "N_opt (parameters)"), (ax_d, "D_opt (tokens)")):
        assert ax.get_xscale() == ax.get_yscale() == "log"
        assert ax.get_xlabel() == "C (FLOPs)" and ax.get_ylabel() == label
        labels = line_labels(ax)
        assert "Kaplan 2020 (non-embedding N, C_min)" in labels and any("Hoffmann 2022" in lb for lb in labels)
        assert shaded(ax)
    # the mock posterior is centred on Hoffmann's constants: the median follows the reference
    med = next(ln for ln in ax_n.get_lines() if ln.get_label() == "posterior median")
    x, y = med.get_data()
    np.testing.assert_allclose(y, hoffmann2022_frontier(x)[0], rtol=0.05)
    bare = plots.plot_frontier(chin, references=False)
    assert not any("Kaplan" in lb for ax in bare.axes for lb in line_labels(ax))


def test_reference_frontiers():
    n, d = kaplan2020_frontier(8.64e19)  # 1 PF-day
    assert (float(n), float(d)) == pytest.approx((1.3e9, 2e10))
    n, d = hoffmann2022_frontier(5.76e23)
    assert float(6 * n * d) == pytest.approx(5.76e23)
    a = 0.28 / (0.34 + 0.28)
    assert float(hoffmann2022_frontier(5.76e24)[0] / n) == pytest.approx(10**a)


def test_plot_frontier_needs_n_and_d(kaplan_n):
    with pytest.raises(ValueError, match="needs a law of N and D"):
        plots.plot_frontier(kaplan_n)


# --------------------------------------------------------------------------- posterior, prior, ppc
def test_plot_posterior_pairs(chin, kaplan_n):
    fig = plots.plot_posterior(chin)
    assert isinstance(fig, Figure) and len(fig.axes) == 25  # 5 parameters: 5 x 5 grid
    labels = {ax.get_xlabel() for ax in fig.axes} | {ax.get_ylabel() for ax in fig.axes}
    assert {"log10(A)", "log10(B)", "alpha"} <= labels  # scale parameters on log10
    assert len(plots.plot_posterior(kaplan_n, var_names=["alpha_N"]).axes) == 1
    with pytest.raises(ValueError, match="no variable"):
        plots.plot_posterior(chin, var_names=["gamma"])


def test_plot_prior_posterior(kaplan_n):
    fig = plots.plot_prior_posterior(kaplan_n, n_prior=200)
    assert isinstance(fig, Figure)
    titles = {ax.get_title() for ax in fig.axes}
    assert {"alpha_N", "log10(Nc)"} <= titles
    for ax in fig.axes:
        if ax.get_title():
            assert len(ax.get_lines()) >= 2  # prior and posterior


def test_plot_ppc_is_on_the_response_scale_with_the_runs(chin):
    """Issue 18: the predictive check shows the data on the loss scale, with per-run intervals."""
    fig = plots.plot_ppc(chin, n_draws=20, seed=1)
    ax_runs, ax_ecdf = fig.axes
    assert ax_ecdf.get_xlabel() == "loss (nats/token)"
    lo, hi = ax_ecdf.get_xlim()
    y = chin.runs.values("loss")
    assert lo <= y.min() and hi >= y.max() and hi - lo < 3 * (y.max() - y.min())  # not squashed
    assert len(ax_ecdf.get_lines()) >= 21  # 20 replicates and the observed runs
    assert ax_runs.get_xscale() == "log" and "% from the run's predictive median" in ax_runs.get_ylabel()
    n_shown = sum(len(c.get_offsets()) for c in ax_runs.collections if hasattr(c, "get_offsets")
                  and c.get_gid() != "band" and len(c.get_offsets()) and not hasattr(c, "get_segments"))
    assert n_shown == len(chin.runs)  # every run is drawn (inside, outside or at the edge)
    inside = int(fig.get_suptitle().split(";")[1].split(" of ")[0])
    assert 0.75 * len(chin.runs) <= inside <= len(chin.runs)  # mock noise matches the model


def test_ppc_marks_far_runs_at_the_edge_instead_of_squashing(chin):
    from dataclasses import replace

    far = chin.runs.data.copy()
    far.loc[far.index[:2], "loss"] *= 1.5  # two runs 50% above the law
    fit = replace(chin, runs=replace(chin.runs, data=far))
    fig = plots.plot_ppc(fit, n_draws=5)
    ax_runs = fig.axes[0]
    texts = [t.get_text() for t in ax_runs.texts]
    assert any(t.startswith("2 off the axis") and t.endswith("%") for t in texts), texts
    assert ax_runs.get_ylim()[1] < 30  # the bulk keeps its scale


def test_legend_swatches_look_like_their_bands(chin):
    """Issue 18: a swatch has the band's colour and the opacity the band is seen with (bands overlap)."""
    from bayes_scaling.plots._style import POSTERIOR, band_alpha, shown_alpha

    fig = plots.plot_fit(chin, budgets=[1e23])
    ax_c = fig.axes[1]
    swatches = {t.get_text(): h for t, h in zip(ax_c.get_legend().get_texts(), ax_c.get_legend().legend_handles)}
    probs = (0.9, 0.5)
    for p in probs:
        patch = swatches[f"{p:.0%} interval"]
        assert matplotlib.colors.to_hex(patch.get_facecolor()[:3]) == POSTERIOR.lower()
        assert patch.get_alpha() == pytest.approx(shown_alpha(p, probs))
    assert shown_alpha(0.5, probs) == pytest.approx(1 - (1 - band_alpha(0.9, probs)) * (1 - band_alpha(0.5, probs)))
    assert shown_alpha(0.5, probs) > 0.4 and shown_alpha(0.9, probs) >= 0.15  # visible
    ax_n = fig.axes[0]  # several colours (D/N slices): grey swatches
    grey = {t.get_text(): h for t, h in zip(ax_n.get_legend().get_texts(), ax_n.get_legend().legend_handles)}
    assert matplotlib.colors.to_hex(grey["50% interval"].get_facecolor()[:3]) == "#7f7f7f"


def test_replicates_centre_on_the_data(grouped):
    from bayes_scaling.plots._data import replicate_log

    rep = replicate_log(grouped, seed=0)
    assert rep.shape == (2, 300, len(grouped.runs))
    obs = np.log(grouped.runs.values("loss"))
    assert np.abs(np.median(rep, axis=(0, 1)) - obs).max() < 0.05


# --------------------------------------------------------------------------- residuals
def test_plot_residuals(chin, kaplan_n, grouped):
    fig = plots.plot_residuals(chin)
    assert [ax.get_xlabel() for ax in fig.axes] == ["N (parameters)", "D (tokens)", "C (FLOPs)"]
    assert all(ax.get_xscale() == "log" for ax in fig.axes)
    points = fig.axes[0].collections[-1].get_offsets()
    assert np.abs(np.asarray(points)[:, 1]).max() < 0.1  # the mock law fits its own data
    assert len(plots.plot_residuals(kaplan_n).axes) == 1
    assert len(plots.plot_residuals(grouped).axes) == 3


# --------------------------------------------------------------------------- families
def test_plot_families(grouped):
    fig = plots.plot_families(grouped, C=1e24, N=1e11, prob=0.9)
    forest_alpha, forest_e, matrix, cbar = fig.axes
    assert forest_alpha.get_title(loc="left").startswith("alpha") and forest_e.get_title(loc="left").startswith("E")
    m = matrix.get_images()[0].get_array()
    cmp = grouped.compare_groups(N=1e11, C=1e24)
    assert m[0, 1] == pytest.approx(cmp["p_a_better"].iloc[0])
    assert m[1, 0] == pytest.approx(1 - cmp["p_a_better"].iloc[0])
    assert np.ma.is_masked(m[0, 0])
    default = plots.plot_families(grouped, C=1e24)  # N: the groups' compute-optimal size
    assert "N = " in default._suptitle.get_text()


def test_plot_families_needs_groups(chin):
    with pytest.raises(ValueError, match="per-group parameters"):
        plots.plot_families(chin, C=1e24)


def test_figures_are_not_left_in_pyplot(chin):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warnings from a plain plot either
        before = len(plt.get_fignums())
        plots.plot_fit(chin)
        plots.plot_posterior(chin, var_names=["alpha", "beta"])
    assert len(plt.get_fignums()) == before


def test_residual_bands_stay_visible_with_a_few_far_runs(chin):
    """Issue 18: two runs 40% off do not flatten the sigma bands; they are marked at the axis' edge."""
    from dataclasses import replace

    far = chin.runs.data.copy()
    far.loc[far.index[:2], "loss"] *= 1.4
    fig = plots.plot_residuals(replace(chin, runs=replace(chin.runs, data=far)))
    ax = fig.axes[0]
    assert ax.get_ylim()[1] < 0.2  # log(1.4) = 0.34 would have set it
    assert any(t.get_text().startswith("2 off the axis: +0.3") for t in ax.texts)
    assert any(t.get_text() == "2 runs beyond the axis" for t in fig.legends[0].get_texts())
