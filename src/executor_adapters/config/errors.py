"""Errors of the config adapter.

::

    ExecutorError                (executor_core.errors)
    └── ConfigError              the config file cannot be read or is invalid; lists every problem
"""

from __future__ import annotations

from collections.abc import Iterable

from executor_core.errors import ExecutorError


class ConfigError(ExecutorError):
    """The configuration is unusable; `problems` holds one `<path>: <problem>` line per fault.

    All problems are collected before raising, so an operator fixes a file in one pass.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))
