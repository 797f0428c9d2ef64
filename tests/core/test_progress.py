"""Progress lines: silent unless asked (a notebook stays quiet), one line per phase on stderr when asked."""

import logging

from bayes_scaling.core.progress import LOGGER, lines_to_stderr, note, phase


def test_silent_by_default(capsys):
    with phase("sampling"):
        note("compiled")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_lines_on_stderr_when_asked_and_the_logger_restored(capsys):
    level = LOGGER.level
    with lines_to_stderr():
        with phase("sampling 4 chains"):
            note("compiled in 0.4 s")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "bayes-scaling: sampling 4 chains..."
    assert err[1] == "bayes-scaling: compiled in 0.4 s"
    assert err[2].startswith("bayes-scaling: sampling 4 chains: done in ") and err[2].endswith(" s")
    assert LOGGER.level == level and not LOGGER.handlers
    with lines_to_stderr(enabled=False):
        note("hidden")
    assert capsys.readouterr().err == ""
    assert logging.getLogger("bayes_scaling.progress") is LOGGER
