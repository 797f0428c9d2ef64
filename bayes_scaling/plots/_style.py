"""Shared look of the plots: colours, rc settings, axis labels, bands and extrapolation shading.

Every plot function is wrapped in :func:`styled` (a ``matplotlib.rc_context``), so the
user's global rcParams are neither used nor changed. Figures are built with
:class:`matplotlib.figure.Figure` (not registered with pyplot): a notebook shows the
returned figure once, and ``fig.savefig(...)`` writes it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ..core.errors import InputError
from ..core.formatting import math_number, short_label
from ..data.units import CANONICAL_UNITS

__all__ = ["RC", "DATA", "POSTERIOR", "REFERENCE", "EXTRAPOLATION", "GROUP_COLORS", "styled", "new_figure",
           "axis_label", "group_colors", "sequential", "log_norm", "band_alpha", "as_probs", "draw_bands",
           "median_line", "shade_beyond", "math_number", "finish", "detach", "legend", "shown_alpha",
           "band_color", "mark_off_axis", "OUTLIER"]

#: Colour of observed runs, posterior curves, published reference lines, and extrapolation shading.
DATA = "#3b3b3b"
POSTERIOR = "#0072B2"
REFERENCE = "#4d4d4d"
EXTRAPOLATION = "#ede5d9"
#: Runs the model does not explain (outside their interval, or off the axis).
OUTLIER = "#D55E00"
#: One colour per group (Okabe & Ito's colour-blind-safe palette, black last).
GROUP_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8c6d31", "#000000")
#: Colour map of ordered series (tokens-per-parameter slices, budgets), without viridis' pale yellow end.
SEQUENTIAL = "viridis"
_SEQ_RANGE = (0.0, 0.82)

RC = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.frameon": True,
    "legend.framealpha": 0.88,
    "legend.edgecolor": "#d0d0d0",
    "legend.fancybox": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.which": "major",
    "axes.axisbelow": True,
    "grid.color": "#d9d9d9",
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.8,
    "scatter.edgecolors": "white",
    "figure.dpi": 100,
    "figure.facecolor": "white",
}

_LABELS = {
    "N": "N (parameters)",
    "D": "D (tokens)",
    "C": "C (FLOPs)",
    "loss": "loss (nats/token)",
    "step": "step (optimizer steps)",
    "U": "U (unique tokens)",
    "B": "B (tokens/batch)",
    "B_crit": "B_crit (tokens/batch)",
}


def styled(func: Callable) -> Callable:
    """Run a plot function inside the shared rc settings."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with mpl.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize=(10, 4), **subplot_kw):
    """A constrained-layout :class:`Figure` (not registered with pyplot) and its 2-D array of axes."""
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    return fig, axes


def detach(fig):
    """Unregister a pyplot-made figure (arviz-plots) so that notebooks show it once, like ours."""
    import matplotlib.pyplot as plt

    if plt.fignum_exists(fig.number if hasattr(fig, "number") else -1):
        plt.close(fig)
    return fig


def axis_label(column: str) -> str:
    """``"N (parameters)"``, ``"C (FLOPs)"``, ``"loss (nats/token)"``, ... for a runs-table column."""
    if column in _LABELS:
        return _LABELS[column]
    unit = CANONICAL_UNITS.get(column)
    return f"{column} ({unit})" if unit else column


def group_colors(groups: Sequence[str]) -> dict[str, str]:
    return {g: GROUP_COLORS[i % len(GROUP_COLORS)] for i, g in enumerate(groups)}


def sequential(n: int) -> list:
    """``n`` colours along the shared sequential map (dark to light)."""
    cmap = mpl.colormaps[SEQUENTIAL]
    return [cmap(x) for x in np.linspace(*_SEQ_RANGE, max(n, 1))][:n] if n > 1 else [cmap(0.35)]


def log_norm(values) -> tuple:
    """(cmap, LogNorm) for colouring points and lines by a positive quantity (e.g. D/N)."""
    values = np.asarray(values, dtype=float)
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    if not hi > lo:
        lo, hi = lo / 1.5, hi * 1.5
    cmap = mpl.colors.ListedColormap(mpl.colormaps[SEQUENTIAL](np.linspace(*_SEQ_RANGE, 256)))
    return cmap, LogNorm(lo, hi)


def as_probs(prob) -> tuple[float, ...]:
    """A probability or several, checked, widest first."""
    probs = tuple(float(p) for p in np.atleast_1d(prob))
    if not probs or any(not 0 < p < 1 for p in probs):
        raise InputError(f"prob must be in (0, 1) (one value or several), got {prob!r}")
    return tuple(sorted(set(probs), reverse=True))


#: Opacity of each band, widest first: the bands are drawn on top of each other, so the 50% band
#: shows as the two together (1 - (1 - 0.18)(1 - 0.32) = 0.44), clearly darker than the 90% band.
_BAND_ALPHAS = (0.18, 0.32, 0.40)


def band_alpha(prob: float, probs: Sequence[float]) -> float:
    """Opacity of a band: the widest interval lightest."""
    rank = sorted(probs, reverse=True).index(prob)
    return _BAND_ALPHAS[min(rank, 2)]


def shown_alpha(prob: float, probs: Sequence[float]) -> float:
    """The opacity a band is *seen* with: its own and every wider band's beneath it, composited.
    Legend swatches use it, so that a swatch looks like its band."""
    clear = np.prod([1.0 - band_alpha(q, probs) for q in probs if q >= prob])
    return float(1.0 - clear)


def draw_bands(ax, x, bands: dict, color, *, label_prefix: str | None = None, zorder: float = 2):
    """Fill one band per probability: ``bands = {prob: (lower, upper)}``."""
    probs = list(bands)
    for p in sorted(probs, reverse=True):
        lo, hi = bands[p]
        band = ax.fill_between(x, lo, hi, color=color, alpha=band_alpha(p, probs), linewidth=0, zorder=zorder,
                               label=None if label_prefix is None else f"{label_prefix}{p:.0%} interval")
        band.set_gid("band")


def median_line(ax, x, y, color, *, observed: tuple[float, float] | None = None, label=None, zorder=3, **kw):
    """The posterior-median curve: solid over the observed range, dashed beyond it."""
    label = None if label is None else short_label(label)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if observed is None:
        return ax.plot(x, y, color=color, label=label, zorder=zorder, **kw)
    lo, hi = observed
    inside = (x >= lo * (1 - 1e-9)) & (x <= hi * (1 + 1e-9))
    first = True
    lines = []
    for mask, style in ((inside, "-"), (x <= lo, "--"), (x >= hi, "--")):
        if mask.sum() >= 2:
            lines += ax.plot(x[mask], y[mask], linestyle=style, color=color, zorder=zorder,
                             label=label if first else None, **kw)
            first = False
    return lines


def shade_beyond(ax, lo: float, hi: float, *, label: str | None = "beyond the data"):
    """Shade the x-range outside ``[lo, hi]`` (the observed range): call after the data are drawn.

    The patches carry ``gid="extrapolation"`` so that they can be found again. Returns them.
    """
    x0, x1 = ax.get_xlim()
    patches = []
    for a, b in ((x0, lo), (hi, x1)):
        if b > a:
            patch = ax.axvspan(a, b, facecolor=EXTRAPOLATION, edgecolor="none", zorder=0,
                               label=label if not patches else None)
            patch.set_gid("extrapolation")
            patches.append(patch)
    for edge in (lo, hi):
        if x0 < edge < x1:
            ax.axvline(edge, color="#b8ab98", linewidth=0.8, linestyle=":", zorder=0.5)
    ax.set_xlim(x0, x1)
    return patches


def finish(fig, title: str | None = None):
    if title:
        fig.suptitle(title, fontsize=11.5, fontweight="bold")
    return fig


def band_color(ax, default: str = "#7f7f7f"):
    """The one colour of the bands drawn on ``ax`` (``default`` when there are none or several)."""
    colors = {tuple(np.round(c.get_facecolor()[0][:3], 3)) for c in ax.collections
              if c.get_gid() == "band" and len(c.get_facecolor())}
    return colors.pop() if len(colors) == 1 else default


def legend(ax, probs: Sequence[float] = (), *, color=None, figure: bool = False, **kw):
    """The axes' legend plus one swatch per interval probability, drawn as the band is seen (its
    colour when the axes' bands share one, grey otherwise); with ``figure=True``, one legend for the
    whole figure, outside the panels on the right.
    """
    from matplotlib.patches import Patch

    handles, labels = ax.get_legend_handles_labels()
    labels = [short_label(label) for label in labels]
    color = band_color(ax) if color is None else color
    for p in sorted(probs):
        handles.append(Patch(facecolor=color, alpha=shown_alpha(p, probs), edgecolor="none"))
        labels.append(f"{p:.0%} interval")
    if figure:
        kw.setdefault("loc", "outside right center")
        return ax.figure.legend(handles, labels, **kw)
    kw.setdefault("loc", "best")
    return ax.legend(handles, labels, **kw)


def mark_off_axis(ax, x, y, lim: float, fmt: str = "{:+.2f}") -> None:
    """Points with ``|y| > lim`` (beyond a symmetric y axis): triangles at its edge, and one line per edge
    saying how many and how far, so that a few far runs need not flatten the panel."""
    for sign, marker, y_text, va in ((1, "^", 0.935, "top"), (-1, "v", 0.065, "bottom")):
        far = sign * y > lim
        if not far.any():
            continue
        ax.scatter(x[far], np.full(far.sum(), sign * lim * 1.04), marker=marker, s=34, color=OUTLIER,
                   edgecolors="white", linewidths=0.4, zorder=5)
        lo, hi = np.sort(y[far])[[0, -1]]
        span = fmt.format(lo) if far.sum() == 1 else f"{fmt.format(lo)} to {fmt.format(hi)}"
        ax.text(0.02, y_text, f"{far.sum()} off the axis: {span}", transform=ax.transAxes, fontsize=7.5,
                color=OUTLIER, va=va, ha="left", zorder=6,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
