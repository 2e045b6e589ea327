"""A bounded LRU map and single-flight coalescing, for reads that many tasks repeat at once."""

from __future__ import annotations

import asyncio
import enum
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
T = TypeVar("T")


class Missing(enum.Enum):
    """What `LruCache.get` returns for an absent key (None is a value worth caching)."""

    MISSING = enum.auto()


MISSING = Missing.MISSING


class LruCache(Generic[K, V]):
    """At most `max_entries` values; the least recently used one goes first."""

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError("a cache holds at least one entry")
        self._max = max_entries
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | Missing:
        """The value, marked as just used; `MISSING` when absent."""
        if key not in self._entries:
            return MISSING
        self._entries.move_to_end(key)
        return self._entries[key]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class SingleFlight(Generic[K]):
    """Runs one fetch per key at a time; callers that ask while it runs share its outcome.

    The fetch runs as its own task, so a caller that is cancelled does not cancel it for the
    others. Failures reach every caller of that flight and are not remembered.
    """

    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[Any]] = {}

    async def run(self, key: K, fetch: Callable[[], Awaitable[T]]) -> T:
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.ensure_future(fetch())
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._landed(key, done))
        result: T = await asyncio.shield(flight)
        return result

    def _landed(self, key: K, flight: asyncio.Future[Any]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # retrieved here, so a flight nobody awaits any more is quiet

    def __len__(self) -> int:
        return len(self._flights)

    async def cancel_all(self) -> None:
        """Cancel the fetches still running (on close) and wait for them to end."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)
