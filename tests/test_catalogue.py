"""The bad-input catalogue (tests/catalogue.py): every case raises its error class, naming the place."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from tests.catalogue import cases, markdown

CASES = cases()


def test_the_catalogue_is_large_and_the_docs_page_is_current():
    assert len(CASES) >= 250
    page = Path(__file__).resolve().parents[1] / "docs" / "validation.md"
    assert page.read_text() == markdown(CASES), "regenerate: python -m tests.catalogue --write docs/validation.md"


@pytest.mark.parametrize("case", CASES, ids=[f"{c.area}: {c.what}" for c in CASES])
def test_bad_input_is_refused_by_name(case, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(case.error) as info:
            case.call(tmp_path)
    assert re.search(case.place, str(info.value), flags=re.S), f"{info.type.__name__}: {info.value}"
