"""The real clock and id source."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime


class SystemClock:
    """Wall time in UTC and the process's monotonic clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class UuidIdSource:
    """Random UUID4 hex ids, as upstream uses for performer and deployment ids."""

    def new_id(self) -> str:
        return uuid.uuid4().hex
