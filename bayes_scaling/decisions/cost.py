"""What a plan costs, and budgets as people write them.

- :class:`CostModel`: the FLOPs of a plan (N parameters, D training tokens): ``C = k·N·D`` (k = 6 by
  default), plus Kaplan et al.'s attention term (``6·n_layer·n_ctx·d_model`` per training token,
  the shape fixed or following a :class:`ShapeRule`), or a power law ``C = κ·N^p·D^q`` fitted to
  the runs' recorded compute; plus the inference FLOPs ``2·N`` per inference token over the
  model's lifetime (Sardana et al. 2023) when ``inference_tokens`` is set. Every decision solves
  its budget constraint for D with :meth:`CostModel.log_tokens`.
- :class:`Hardware`: an accelerator's peak FLOP/s, the model FLOPs utilisation (MFU) and a price
  per accelerator-hour; :func:`budget_flops` turns GPU-hours or money into FLOPs and
  :func:`cost_columns` echoes any FLOPs as GPU-hours and money in a table.
- :class:`ShapeRule`: an architecture (layers, width, heads) for a parameter count.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..core.errors import BudgetError
from ..core.formatting import fmt
from .optimum import positive_array

if TYPE_CHECKING:
    from ..data.runs import Runs

__all__ = ["CostModel", "Hardware", "ShapeRule", "budget_flops", "cost_columns", "resolve_cost", "budget_coordinate",
           "coordinate_shift",
           "INFERENCE_FLOPS_PER_PARAM", "HARDWARE_PEAK_FLOPS"]

#: FLOPs per parameter per inference token (a forward pass).
INFERENCE_FLOPS_PER_PARAM = 2.0
#: Dense bf16 peak FLOP/s per accelerator (vendor data sheets).
HARDWARE_PEAK_FLOPS = {"A100": 312e12, "H100": 989e12, "H200": 989e12, "B200": 2250e12, "TPU v5p": 459e12}
_BISECT = 60  # bisection steps in log N (a 70-nat bracket to 1e-16)


def _positive(name: str, value, *, allow_zero: bool = False, hint: str = "") -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = np.nan
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero) or isinstance(value, bool):
        raise BudgetError(f"{name} must be a finite number {'>= 0' if allow_zero else '> 0'}, got {value!r}{hint}")
    return v


@dataclasses.dataclass(frozen=True)
class ShapeRule:
    """An architecture for N non-embedding parameters: ``N = 12·n_layer·d_model²`` with
    ``d_model = aspect_ratio·n_layer`` (Kaplan et al. 2020, Eq. 2.1; Llama 3 8B: 4096/32 = 128),
    ``d_model`` rounded to a multiple of ``head_dim``."""

    aspect_ratio: float = 128.0
    head_dim: int = 128
    params_per_layer: float = 12.0

    def __post_init__(self):
        for name in ("aspect_ratio", "head_dim", "params_per_layer"):
            _positive(f"ShapeRule.{name}", getattr(self, name))

    def width(self, N) -> np.ndarray:
        """``d_model`` before rounding: ``(aspect_ratio·N/12)^(1/3)``."""
        return (self.aspect_ratio * np.asarray(N, dtype=float) / self.params_per_layer) ** (1 / 3)

    def architecture(self, N) -> pd.DataFrame:
        """``n_layer``, ``d_model``, ``n_heads`` and the ``N_arch`` they give, per N."""
        n = np.atleast_1d(np.asarray(N, dtype=float))
        d_model = np.maximum(self.head_dim, np.round(self.width(n) / self.head_dim) * self.head_dim)
        n_layer = np.maximum(1, np.round(n / (self.params_per_layer * d_model**2)))
        return pd.DataFrame({"n_layer": n_layer.astype(int), "d_model": d_model.astype(int),
                             "n_heads": (d_model // self.head_dim).astype(int),
                             "N_arch": self.params_per_layer * n_layer * d_model**2})


@dataclasses.dataclass(frozen=True)
class CostModel:
    """Training (and lifetime inference) FLOPs of a plan; see the module docstring.

    Parameters
    ----------
    flops_per_token : float
        k in ``k·N·D`` (6: forward and backward passes).
    n_ctx : float, optional
        Context length: adds Kaplan's attention FLOPs, ``6·n_layer·n_ctx·d_model`` per token.
    n_layer, d_model : float, optional
        A fixed shape for the attention term; without them the shape follows ``shape``.
    shape : ShapeRule
        The shape rule used when ``n_layer``/``d_model`` are not given.
    power : (log_kappa, p, q), optional
        ``C = κ·N^p·D^q`` instead (see :meth:`fit_power_law`).
    inference_tokens : float
        Tokens the model will serve over its lifetime: adds ``2·N`` FLOPs per token.
    """

    flops_per_token: float = 6.0
    n_ctx: float | None = None
    n_layer: float | None = None
    d_model: float | None = None
    shape: ShapeRule = ShapeRule()
    power: tuple[float, float, float] | None = None
    inference_tokens: float = 0.0
    inference_flops_per_param: float = INFERENCE_FLOPS_PER_PARAM
    source: str = ""

    def __post_init__(self):
        _positive("flops_per_token", self.flops_per_token)
        _positive("inference_tokens", self.inference_tokens, allow_zero=True,
                  hint=" (tokens served over the model's lifetime)")
        _positive("inference_flops_per_param", self.inference_flops_per_param)
        for name in ("n_ctx", "n_layer", "d_model"):
            if getattr(self, name) is not None:
                _positive(name, getattr(self, name))
        if (self.n_layer is None) != (self.d_model is None):
            raise BudgetError("give both n_layer and d_model (a fixed shape), or neither (the shape rule)")
        if self.n_layer is not None and self.n_ctx is None:
            raise BudgetError("n_layer and d_model set the attention term: give n_ctx (the context length) too")
        if self.power is not None:
            if len(self.power) != 3 or not np.all(np.isfinite(self.power)) or not self.power[2] > 0:
                raise BudgetError(f"power must be (log kappa, p, q) with q > 0, got {self.power!r}")
            if self.n_ctx is not None:
                raise BudgetError("a fitted power law already holds the attention FLOPs: drop n_ctx")

    @classmethod
    def fit_power_law(cls, runs: Runs, **kwargs) -> CostModel:
        """``C = κ·N^p·D^q`` by least squares in logs on the runs' recorded compute (column C)."""
        if not all(runs.has(c) for c in ("N", "D", "C")) or "C" in runs.derived:
            raise BudgetError("a power law of compute needs runs with recorded compute: columns N, D and C")
        x = np.column_stack([np.ones(len(runs.values("N"))), np.log(runs.values("N")), np.log(runs.values("D"))])
        coef, *_ = np.linalg.lstsq(x, np.log(runs.values("C")), rcond=None)
        resid = np.log(runs.values("C")) - x @ coef
        return cls(power=tuple(float(c) for c in coef),
                   source=f"fitted to {len(resid)} runs' recorded compute, rms {np.sqrt(np.mean(resid**2)):.2%}",
                   **kwargs)

    @property
    def plain(self) -> bool:
        """``C = k·N·D`` alone (the closed-form allocation applies)."""
        return self.power is None and self.n_ctx is None and self.inference_tokens == 0

    def with_inference(self, tokens) -> CostModel:
        return dataclasses.replace(self, inference_tokens=0.0 if tokens is None else tokens)

    def _per_token(self, log_n):
        """Log of the training FLOPs per token, ``k·N`` plus the attention term."""
        n = np.exp(log_n)
        if self.n_ctx is None:
            return np.log(self.flops_per_token) + log_n
        if self.n_layer is not None:
            attention = self.n_layer * self.d_model
        else:
            attention = self.shape.width(n) ** 2 / self.shape.aspect_ratio
        return np.log(self.flops_per_token * n + 6.0 * self.n_ctx * attention)

    def log_compute(self, log_n, log_d):
        """Log C of plans: training FLOPs plus lifetime inference FLOPs."""
        log_n, log_d = np.asarray(log_n, dtype=float), np.asarray(log_d, dtype=float)
        if self.power is not None:
            train = self.power[0] + self.power[1] * log_n + self.power[2] * log_d
        else:
            train = self._per_token(log_n) + log_d
        if self.inference_tokens == 0:
            return train
        return np.logaddexp(train, np.log(self.inference_flops_per_param * self.inference_tokens) + log_n)

    def log_tokens(self, log_n, log_c):
        """Log D of the plan with ``log N`` that spends ``log C`` in all; NaN where inference alone
        spends the budget."""
        log_n, log_c = np.asarray(log_n, dtype=float), np.asarray(log_c, dtype=float)
        if self.inference_tokens:
            with np.errstate(invalid="ignore", divide="ignore"):
                log_c = log_c + np.log1p(-np.exp(np.log(self.inference_flops_per_param * self.inference_tokens)
                                                  + log_n - log_c))
        if self.power is not None:
            return (log_c - self.power[0] - self.power[1] * log_n) / self.power[2]
        return log_c - self._per_token(log_n)

    def log_n_at(self, log_c, tokens_per_param) -> np.ndarray:
        """Log N of the plan with ``tokens_per_param`` (D/N) that spends ``log C``: D/N falls as N
        grows, so a bisection in log N (the exact root for ``k·N·D``)."""
        log_c = np.asarray(log_c, dtype=float)
        log_r = np.log(np.asarray(tokens_per_param, dtype=float))
        if self.plain:
            return 0.5 * (log_c - np.log(self.flops_per_token) - log_r)
        lo, hi = np.broadcast_arrays(np.full(np.broadcast_shapes(log_c.shape, log_r.shape), -10.0),
                                     log_c - np.log(self.flops_per_token) + 10.0)
        lo, hi = lo.copy(), hi.copy()
        for _ in range(_BISECT):
            mid = 0.5 * (lo + hi)
            with np.errstate(invalid="ignore"):
                big = ~(self.log_tokens(mid, log_c) - mid > log_r)  # NaN (no tokens left): too big
            lo, hi = np.where(big, lo, mid), np.where(big, mid, hi)
        return 0.5 * (lo + hi)

    def describe(self) -> str:
        """The cost model in one line, e.g. ``C = 6·N·D + 2·N·1e12 (inference)``."""
        if self.power is not None:
            text = f"C = {fmt(np.exp(self.power[0]))}·N^{self.power[1]:.3f}·D^{self.power[2]:.3f}"
        else:
            text = f"C = {self.flops_per_token:g}·N·D"
            if self.n_ctx is not None:
                shape = (f"n_layer {self.n_layer:g}, d_model {self.d_model:g}" if self.n_layer is not None
                         else f"d_model/n_layer {self.shape.aspect_ratio:g}")
                text += f" + 6·n_layer·n_ctx·d_model·D (n_ctx {self.n_ctx:g}, {shape})"
        if self.inference_tokens:
            text += f" + {self.inference_flops_per_param:g}·N·{fmt(self.inference_tokens)} inference tokens"
        return text + (f" ({self.source})" if self.source else "")


@dataclasses.dataclass(frozen=True)
class Hardware:
    """An accelerator: ``peak_flops`` (FLOP/s each, dense), the achieved fraction ``mfu``, and a
    ``price_per_hour`` per accelerator (optional). ``Hardware.preset("H100", price_per_hour=2.5)``."""

    peak_flops: float | None = None
    mfu: float = 0.4
    price_per_hour: float | None = None
    name: str = ""

    def __post_init__(self):
        if self.peak_flops is None:
            raise BudgetError("Hardware needs peak_flops, the accelerator's throughput in FLOP/s (e.g. 989e12 for "
                              f"an H100), to turn hours or a price into FLOPs; or use Hardware.preset(name) with "
                              f"one of {sorted(HARDWARE_PEAK_FLOPS)}")
        _positive("peak_flops", self.peak_flops, hint=" (FLOP/s per accelerator, e.g. 989e12)")
        _positive("mfu", self.mfu, hint=" (the fraction of peak achieved, e.g. 0.4)")
        if self.mfu > 1:
            raise BudgetError(f"mfu is a fraction of the peak FLOP/s, in (0, 1]; got {self.mfu!r}")
        if self.price_per_hour is not None:
            _positive("price_per_hour", self.price_per_hour, hint=" (money per accelerator-hour)")

    @classmethod
    def preset(cls, name: str, *, mfu: float = 0.4, price_per_hour: float | None = None) -> Hardware:
        if name not in HARDWARE_PEAK_FLOPS:
            raise BudgetError(f"unknown accelerator {name!r}: one of {sorted(HARDWARE_PEAK_FLOPS)}, or "
                              "Hardware(peak_flops=...)")
        return cls(HARDWARE_PEAK_FLOPS[name], mfu, price_per_hour, name)

    @property
    def flops_per_hour(self) -> float:
        """Achieved FLOPs per accelerator-hour."""
        return self.peak_flops * self.mfu * 3600.0

    def describe(self) -> str:
        price = "" if self.price_per_hour is None else f", {self.price_per_hour:g} per hour"
        return f"{self.name or 'accelerator'}: {fmt(self.peak_flops)} FLOP/s peak at {self.mfu:.0%} MFU{price}"


def budget_flops(C=None, *, gpu_hours=None, dollars=None, hardware: Hardware | None = None) -> np.ndarray:
    """Budgets in FLOPs from exactly one of ``C`` (FLOPs), ``gpu_hours`` or ``dollars`` (these two
    with ``hardware``; money needs its ``price_per_hour``)."""
    given = {k: v for k, v in (("C", C), ("gpu_hours", gpu_hours), ("dollars", dollars)) if v is not None}
    if len(given) != 1:
        raise BudgetError(f"give the budget once: C (FLOPs), gpu_hours or dollars; got {sorted(given) or 'none'}")
    (name, value), = given.items()
    arr = positive_array(name, value, BudgetError)
    if name == "C":
        return arr
    if hardware is None:
        raise BudgetError(f"a budget in {name} needs hardware=bs.Hardware(peak_flops=..., mfu=..."
                          f"{', price_per_hour=...' if name == 'dollars' else ''}) to be turned into FLOPs")
    if name == "dollars":
        if hardware.price_per_hour is None:
            raise BudgetError("a budget in dollars needs hardware with price_per_hour (money per accelerator-hour)")
        arr = arr / hardware.price_per_hour
    return arr * hardware.flops_per_hour


def cost_columns(C, hardware: Hardware | None) -> dict[str, np.ndarray]:
    """``gpu_hours`` (and ``dollars`` with a price) of FLOPs ``C`` on ``hardware``; empty without it."""
    if hardware is None:
        return {}
    hours = np.asarray(C, dtype=float) / hardware.flops_per_hour
    out = {"gpu_hours": hours}
    if hardware.price_per_hour is not None:
        out["dollars"] = hours * hardware.price_per_hour
    return out


def resolve_cost(flops_per_token: float, cost: CostModel | None, inference_tokens=None) -> CostModel:
    """The cost model of a decision: ``cost``, else ``k·N·D`` with the fit's k; with ``inference_tokens``."""
    if cost is not None and not isinstance(cost, CostModel):
        raise BudgetError(f"cost must be a bs.CostModel, got {type(cost).__name__}")
    cost = cost if cost is not None else CostModel(flops_per_token=flops_per_token)
    return cost if inference_tokens is None else cost.with_inference(inference_tokens)


def budget_coordinate(cost: CostModel, C: np.ndarray) -> np.ndarray:
    """What :func:`~bayes_scaling.decisions.optimum.optimum` takes: ``log(C/k)`` for ``k·N·D``, else ``log C``."""
    return np.log(C) - coordinate_shift(cost)


def coordinate_shift(cost: CostModel) -> float:
    """``log C`` minus the budget coordinate: ``log k`` for ``k·N·D``, else 0."""
    return float(np.log(cost.flops_per_token)) if cost.plain else 0.0
