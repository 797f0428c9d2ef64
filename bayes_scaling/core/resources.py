"""Where the shipped ``models/`` and ``datasets/`` folders are.

In a wheel they are force-included as ``bayes_scaling/_shipped/<name>`` and read
with :mod:`importlib.resources`; in a source checkout (editable install) they
are the top-level folders beside the package.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from .errors import InputError

__all__ = ["shipped_dir"]


def shipped_dir(name: str) -> Path:
    """Path of the shipped folder ``name`` (``"models"`` or ``"datasets"``)."""
    if name not in ("models", "datasets"):
        raise InputError(f"unknown shipped folder {name!r}")
    installed = files("bayes_scaling").joinpath("_shipped", name)
    if installed.is_dir():
        return Path(str(installed))
    checkout = Path(__file__).resolve().parents[2] / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"bayes_scaling's {name}/ folder is missing from this installation")
