"""Units, conversion constants and size suffixes (bayes_scaling.data.units)."""

from __future__ import annotations

import numpy as np
import pytest

from bayes_scaling.data.units import (
    CANONICAL_UNITS,
    DEFAULT_FLOPS_PER_TOKEN,
    PF_DAY_FLOPS,
    flops_to_pf_days,
    parse_size_suffix,
    pf_days_to_flops,
)


@pytest.mark.parametrize("text, expected", [
    ("7B", 7e9), ("1.3b", 1.3e9), ("70M", 7e7), ("500k", 5e5), ("1.4T", 1.4e12), ("2e9", 2e9),
    ("3G", 3e9), ("1,000", 1000.0), ("1_000_000", 1e6), (" 7 B ", 7e9), ("12,500,000", 1.25e7),
    ("1.5e3M", 1.5e9), ("0.5", 0.5), ("-2k", -2000.0), (".5M", 5e5),
])
def test_parse_size_suffix_values(text, expected):
    assert parse_size_suffix(text) == expected


@pytest.mark.parametrize("text", ["seven", "", "B", "7X", "1,5B", "1,00", "inf", "nan", "7 billion", "7BB"])
def test_parse_size_suffix_rejects(text):
    assert parse_size_suffix(text) is None


def test_parse_size_suffix_non_string_is_none():
    assert parse_size_suffix(7e9) is None
    assert parse_size_suffix(None) is None


def test_units_constants_and_conversions():
    assert PF_DAY_FLOPS == 8.64e19 and DEFAULT_FLOPS_PER_TOKEN == 6.0
    assert flops_to_pf_days(8.64e19) == 1.0
    assert pf_days_to_flops(2.0) == 1.728e20
    np.testing.assert_allclose(flops_to_pf_days(pf_days_to_flops([0.5, 3.0])), [0.5, 3.0])
    assert CANONICAL_UNITS == {"N": "parameters", "D": "tokens", "C": "FLOPs", "loss": "nats/token",
                               "B": "tokens/batch", "U": "tokens (unique)", "step": "optimizer steps",
                               "B_crit": "tokens/batch"}
