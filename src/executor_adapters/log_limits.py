"""Rate limits on log lines that callers can cause, so a flood of bad requests cannot fill a disk.

A line of a limited kind (its `kind` fields, say `grpc.method` and `grpc.code`) goes through a
token bucket of its own: `burst` lines at once, then `per_second` lines a second. What the
bucket holds back is counted, and the next line of that kind that gets through is preceded by
one summary line, `suppressed N similar lines`, with the kind's fields and `suppressed`.
Kinds are few by construction (a method and a status code, an event and an error type), never
a caller's value, so the table of buckets stays small.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping

import attrs

__all__ = ["DEFAULT_BURST", "DEFAULT_PER_SECOND", "LimitedLog", "LogBuckets"]

DEFAULT_BURST = 20
DEFAULT_PER_SECOND = 1.0
_MAX_KINDS = 1024


@attrs.define
class _Bucket:
    tokens: float
    refilled_at: float
    suppressed: int = 0


class LogBuckets:
    """One token bucket per kind of line."""

    def __init__(
        self,
        *,
        burst: int = DEFAULT_BURST,
        per_second: float = DEFAULT_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("a log bucket needs burst >= 1 and per_second > 0")
        self._burst = burst
        self._per_second = per_second
        self._clock = clock
        self._buckets: dict[Hashable, _Bucket] = {}

    def admit(self, kind: Hashable) -> int | None:
        """None when a line of `kind` is to be held back; otherwise how many lines of that
        kind were held back since the last one admitted."""
        now = self._clock()
        bucket = self._buckets.get(kind)
        if bucket is None:
            if len(self._buckets) >= _MAX_KINDS:
                self._forget_full(now)
            bucket = self._buckets[kind] = _Bucket(float(self._burst), now)
        else:
            elapsed = max(now - bucket.refilled_at, 0.0)
            bucket.tokens = min(float(self._burst), bucket.tokens + elapsed * self._per_second)
            bucket.refilled_at = now
        if bucket.tokens < 1:
            bucket.suppressed += 1
            return None
        bucket.tokens -= 1
        suppressed, bucket.suppressed = bucket.suppressed, 0
        return suppressed

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that would be full by now and owe no summary: forgetting them
        changes nothing. Should every kind be busy, the oldest goes."""
        for kind, bucket in list(self._buckets.items()):
            refilled = bucket.tokens + (now - bucket.refilled_at) * self._per_second
            if refilled >= self._burst and not bucket.suppressed:
                del self._buckets[kind]
        if len(self._buckets) >= _MAX_KINDS:
            del self._buckets[next(iter(self._buckets))]


class LimitedLog:
    """Writes to `logger` through `LogBuckets`, one bucket per kind."""

    def __init__(self, logger: logging.Logger, buckets: LogBuckets | None = None) -> None:
        self._logger = logger
        self._buckets = buckets or LogBuckets()

    def log(
        self,
        level: int,
        message: str,
        *,
        kind: Mapping[str, object],
        extra: Mapping[str, object],
        exc_info: BaseException | None = None,
    ) -> None:
        """Log `message` unless its kind's bucket is empty; `kind` holds the fields that make
        lines similar, and goes into the summary line."""
        if not self._logger.isEnabledFor(level):
            return
        suppressed = self._buckets.admit(tuple(kind.items()))
        if suppressed is None:
            return
        if suppressed:
            self._logger.log(
                level,
                f"suppressed {suppressed} similar lines",
                extra={**kind, "suppressed": suppressed},
                stacklevel=2,
            )
        self._logger.log(level, message, extra=dict(extra), exc_info=exc_info, stacklevel=2)
