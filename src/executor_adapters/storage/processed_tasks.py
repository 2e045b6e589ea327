"""Processed second-generation tasks, in memory, bounded in time, count and bytes.

Upstream's memory store is a no-op and its durable store keeps every key forever (reference
§8.8). Here an entry lives for `retention` seconds, and the oldest entries are dropped first
when the store would hold more than `max_entries` results or more than `max_bytes` of output
and signatures. A dropped entry only means that a very late repeat runs the task again.
"""

from __future__ import annotations

from collections import OrderedDict

import attrs

from executor_core.addresses import AvsAddress
from executor_core.ports import Clock, ProcessedTask

_OVERHEAD = 256
"""Bytes counted per entry beyond its output and signatures (ids, keys, bookkeeping)."""


@attrs.define
class _Entry:
    task: ProcessedTask
    stored_at: float
    size: int


def _size(entry: ProcessedTask) -> int:
    result = entry.result
    return (
        len(result.output)
        + len(result.signature)
        + len(result.auth_signature)
        + len(entry.fingerprint)
        + _OVERHEAD
    )


class InMemoryProcessedTasks:
    """Implements `executor_core.ports.ProcessedTasks` in a bounded, insertion-ordered map."""

    def __init__(self, clock: Clock, *, retention: float, max_entries: int, max_bytes: int) -> None:
        if retention <= 0 or max_entries < 1 or max_bytes < 1:
            raise ValueError("retention, max_entries and max_bytes must be positive")
        self._clock = clock
        self._retention = retention
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._entries: OrderedDict[tuple[AvsAddress, str], _Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def stored_bytes(self) -> int:
        """What the entries count for against `max_bytes`."""
        return self._bytes

    async def get(self, avs: AvsAddress, task_id: str) -> ProcessedTask | None:
        self._expire()
        entry = self._entries.get((avs, task_id))
        return None if entry is None else entry.task

    async def put(self, avs: AvsAddress, task_id: str, entry: ProcessedTask) -> None:
        key = (avs, task_id)
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= old.size
        size = _size(entry)
        if size > self._max_bytes:
            return  # larger than the whole store: keeping it would evict everything else
        self._entries[key] = _Entry(entry, self._clock.monotonic(), size)
        self._bytes += size
        self._expire()
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._drop_oldest()

    def _expire(self) -> None:
        horizon = self._clock.monotonic() - self._retention
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if oldest.stored_at > horizon:
                return
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        _, entry = self._entries.popitem(last=False)
        self._bytes -= entry.size
