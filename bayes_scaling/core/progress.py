"""What a long step is doing, one line per phase: the ``bayes_scaling.progress`` logger.

The library logs at INFO (build, compile, sample, remedy, structural term, checks, each with its
time); Python's logging shows nothing at INFO unless asked, so a notebook stays quiet. The CLI
shows these lines on stderr (``--quiet`` silences them), where a progress bar cannot be drawn
(output piped to a file, a CI log).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["LOGGER", "phase", "note", "listening", "lines_to_stderr", "quiet_logger"]

LOGGER = logging.getLogger("bayes_scaling.progress")


def note(message: str) -> None:
    """One progress line."""
    LOGGER.info(message)


def listening() -> bool:
    """Whether anything shows the progress lines (so that per-phase bookkeeping can be skipped)."""
    return LOGGER.isEnabledFor(logging.INFO) and LOGGER.hasHandlers()


@contextmanager
def phase(what: str) -> Iterator[None]:
    """``what...`` when it starts, ``what: done in x s`` when it ends (only the first when it raises)."""
    note(f"{what}...")
    t0 = time.perf_counter()
    yield
    note(f"{what}: done in {time.perf_counter() - t0:.1f} s")


@contextmanager
def lines_to_stderr(enabled: bool = True) -> Iterator[None]:
    """Show the progress lines on stderr (``bayes-scaling: ...``) for the duration."""
    if not enabled:
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bayes-scaling: %(message)s"))
    level = LOGGER.level
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    try:
        yield
    finally:
        LOGGER.removeHandler(handler)
        LOGGER.setLevel(level)


@contextmanager
def quiet_logger(name: str) -> Iterator[None]:
    """Silence another library's INFO lines (PyMC's "Sampling: [...]" on stderr) for the duration."""
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)
