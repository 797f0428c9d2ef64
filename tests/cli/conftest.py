"""The CLI tests' shared fixtures (defined with the command tests): a runs CSV, a saved mock fit, a fake sampler."""

from tests.cli.test_commands import fake_sampler, runs_csv, saved_fit  # noqa: F401
