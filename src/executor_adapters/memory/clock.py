"""A clock and an id source that tests control."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta


class FakeClock:
    """Wall time that only moves when told to; monotonic time follows the real clock so that
    asyncio deadlines keep working."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 6, 20, 12, 0, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)

    def monotonic(self) -> float:
        return time.monotonic()


class SequentialIds:
    """Predictable ids (`id-0001`, `id-0002`, …) so tests can name performers in advance."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def new_id(self) -> str:
        return f"{self._prefix}{next(self._counter):04d}"
