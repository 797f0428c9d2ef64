"""Mock fits shared by the decision tests: a narrow posterior (the truth, nearly) and a wide one."""

from __future__ import annotations

import pytest

from tests.helpers import mock_fit


@pytest.fixture(scope="module")
def narrow():
    return mock_fit(rel_sd=1e-4)


@pytest.fixture(scope="module")
def wide():
    return mock_fit(rel_sd=0.1, sigma=0.02, seed=3)
