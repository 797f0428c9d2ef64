"""Units, conversion constants and size-suffix parsing for scaling-law data."""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "PF_DAY_FLOPS",
    "DEFAULT_FLOPS_PER_TOKEN",
    "CANONICAL_UNITS",
    "flops_to_pf_days",
    "pf_days_to_flops",
    "parse_size_suffix",
]

#: FLOPs in one petaflop/s-day: 1e15 FLOP/s * 86400 s.
PF_DAY_FLOPS: float = 8.64e19

#: Training FLOPs per parameter per token (forward + backward), C = 6·N·D.
DEFAULT_FLOPS_PER_TOKEN: float = 6.0

#: Unit of each canonical numeric column.
CANONICAL_UNITS: dict[str, str] = {
    "N": "parameters",
    "D": "tokens",
    "C": "FLOPs",
    "loss": "nats/token",
    "B": "tokens/batch",
    "U": "tokens (unique)",
    "step": "optimizer steps",
    "B_crit": "tokens/batch",
}

_SUFFIX_EXPONENT = {"k": 3, "m": 6, "b": 9, "g": 9, "t": 12}
_NUMBER_SUFFIX = re.compile(
    r"^(?P<num>[+-]?(?:\d+\.?\d*|\.\d+))(?P<exp>[eE][+-]?\d+)?(?P<suffix>[kKmMbBgGtT])?$"
)
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?[kKmMbBgGtT]?$")


def _as_float_array(x):
    """Return ``x`` unchanged if it supports division, else as a float array."""
    if isinstance(x, (list, tuple)):
        return np.asarray(x, dtype=np.float64)
    return x


def flops_to_pf_days(x):
    """Convert FLOPs to petaflop/s-days.

    Parameters
    ----------
    x : float, numpy.ndarray, pandas.Series or sequence of float
        Compute in FLOPs.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Compute in PF-days (``x / 8.64e19``).
    """
    return _as_float_array(x) / PF_DAY_FLOPS


def pf_days_to_flops(x):
    """Convert petaflop/s-days to FLOPs.

    Parameters
    ----------
    x : float, numpy.ndarray, pandas.Series or sequence of float
        Compute in PF-days.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Compute in FLOPs (``x * 8.64e19``).
    """
    return _as_float_array(x) * PF_DAY_FLOPS


def parse_size_suffix(text: str) -> float | None:
    """Parse a human-written size such as ``"7B"``, ``"1.3b"`` or ``"1,000"``.

    Suffixes (case-insensitive): K = 1e3, M = 1e6, B or G = 1e9, T = 1e12.
    Spaces and underscores are ignored anywhere; commas are accepted only as
    thousands separators (``"1,000"`` but not ``"1,5B"``).

    Parameters
    ----------
    text : str
        The text to parse.

    Returns
    -------
    float or None
        The value, or None when ``text`` is not a string or not a size.

    Examples
    --------
    >>> parse_size_suffix("70M")
    70000000.0
    >>> parse_size_suffix("1.4T")
    1400000000000.0
    >>> parse_size_suffix("seven") is None
    True
    """
    if not isinstance(text, str):
        return None
    compact = re.sub(r"[\s_]", "", text)
    if "," in compact:
        if not _THOUSANDS.match(compact):
            return None
        compact = compact.replace(",", "")
    match = _NUMBER_SUFFIX.match(compact)
    if match is None:
        return None
    num, exp, suffix = match.group("num", "exp", "suffix")
    power = int(exp[1:]) if exp else 0
    if suffix:
        power += _SUFFIX_EXPONENT[suffix.lower()]
    # Build the decimal literal so that e.g. "1.3b" is exactly float("1.3e9").
    return float(f"{num}e{power}")
