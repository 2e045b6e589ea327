"""Aggregator signatures checked in batches, so that their cost per task falls as load rises.

A signature that arrives while every verification worker is busy waits, and the next free
worker checks it together with all the others that waited under the same aggregator keys from
the same origin (the connection they came over): one multi-pairing for the lot, whose result is
each signature's own verdict (the verifier finds the bad ones when a batch fails). When a worker
is free, a signature is checked at once, alone: at concurrency 1 nothing waits for a batch.

A flood of bad signatures must not starve valid traffic, and an origin that sends them cannot
be told apart by the signatures alone until they are checked. So the groups that wait are
served in turns, origins whose recent signatures failed ("struck") after the others, in small
batches, and never on every worker at once: one worker stays free for the clean ones; and
their failed verdicts are answered after a short delay, so a flooder's closed loop slows itself
down instead of filling the executor's event loop with refusals. While a group has a batch
being checked, a second worker starts on it only for a backlog of `PARALLEL_BATCH`; smaller
ones wait to join its next batch.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter, deque
from collections.abc import Sequence

import attrs

from executor_core.events import EventHub, SignatureBatchStarted
from executor_core.ports import Clock, SignedMessage, TaskSignatureVerifier

__all__ = ["SignatureBatcher"]

PARALLEL_BATCH = 8
"""Signatures that must wait before a second worker starts on them while one is busy: a worker
that waits a moment for a bigger batch spends one pairing where it would have spent several,
and on a small machine the performer needs those cores too."""
STRUCK_BATCH = 4
"""Largest batch of a struck origin: a failed batch holds its worker for about n + 3 checks."""
_STRIKE_LIMIT = 1024

_GroupKey = tuple[tuple[bytes, ...], str]


@attrs.define(eq=False)
class _Waiting:
    item: SignedMessage
    verdict: asyncio.Future[bool]


@attrs.define(eq=False)
class _Group:
    keys: tuple[bytes, ...]
    origin: str
    waiting: deque[_Waiting] = attrs.field(factory=deque)


@attrs.define
class _Strikes:
    value: float
    at: float


class SignatureBatcher:
    """Schedules signature checks on at most `workers` concurrent calls of the verifier.

    Args:
        verifier: checks a batch under one set of keys (the adapter runs it off the loop).
        clock: decays strikes.
        workers: concurrent verifications, normally the number of cores.
        max_batch: the largest batch of a clean origin.
        strike_half_life: seconds after which an origin's count of failed signatures halves.
        failure_delay: seconds a struck origin waits for each further failed verdict, so that a
            flooder's own closed loop slows it down instead of the executor's event loop.
    """

    def __init__(
        self,
        verifier: TaskSignatureVerifier,
        clock: Clock,
        *,
        workers: int,
        max_batch: int = 64,
        strike_half_life: float = 10.0,
        failure_delay: float = 0.1,
        events: EventHub | None = None,
    ) -> None:
        if workers < 1 or max_batch < 1 or strike_half_life <= 0 or failure_delay < 0:
            raise ValueError("workers, max_batch, strike_half_life, failure_delay out of range")
        self._failure_delay = failure_delay
        self._events = events
        self._verifier = verifier
        self._clock = clock
        self._workers = workers
        self._max_batch = max_batch
        self._half_life = strike_half_life
        self._groups: dict[_GroupKey, _Group] = {}
        self._ready: dict[_GroupKey, None] = {}
        """Groups with signatures waiting, in the order they are to be served (insertion order)."""
        self._busy = 0
        self._busy_struck = 0
        self._in_flight: Counter[_GroupKey] = Counter()
        """Batches of each group being checked now."""
        self._strikes: dict[str, _Strikes] = {}
        self._running: set[asyncio.Task[None]] = set()

    @property
    def waiting(self) -> int:
        """Signatures waiting for a worker."""
        return sum(len(group.waiting) for group in self._groups.values())

    async def verify(
        self, public_keys: Sequence[bytes], message: bytes, signature: bytes, *, origin: str = ""
    ) -> bool:
        """Return whether `signature` signs `message` under any of the keys."""
        key = (tuple(public_keys), origin)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(key[0], origin)
        verdict: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        group.waiting.append(_Waiting(SignedMessage(message, signature), verdict))
        self._ready.setdefault(key, None)
        self._dispatch()
        verified = await verdict
        if not verified and self._failure_delay and self._is_struck(origin):
            await asyncio.sleep(self._failure_delay)
        return verified

    def _dispatch(self) -> None:
        """Hand waiting groups to free workers, clean origins first, in turns."""
        skipped: list[_GroupKey] = []
        while self._busy < self._workers and self._ready:
            key = self._next_group(skipped)
            if key is None:
                break
            group = self._groups[key]
            struck = self._is_struck(group.origin)
            if struck and self._busy_struck >= max(1, self._workers - 1):
                skipped.append(key)
                continue
            if self._in_flight[key] and not struck and len(group.waiting) < PARALLEL_BATCH:
                skipped.append(key)
                continue
            limit = min(STRUCK_BATCH, self._max_batch) if struck else self._max_batch
            batch = self._take(group, limit)
            del self._ready[key]
            if group.waiting:
                self._ready[key] = None
            else:
                del self._groups[key]
            if not batch:
                continue
            self._busy += 1
            self._busy_struck += struck
            self._in_flight[key] += 1
            if self._events is not None:
                self._events.emit(SignatureBatchStarted(len(batch)))
            task = asyncio.create_task(self._check(key, group, batch, struck))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    def _next_group(self, skipped: list[_GroupKey]) -> _GroupKey | None:
        best: _GroupKey | None = None
        best_strikes = math.inf
        for key in self._ready:
            if key in skipped:
                continue
            strikes = self._strike_value(key[1])
            if strikes < best_strikes:
                best, best_strikes = key, strikes
                if strikes == 0:
                    break
        return best

    @staticmethod
    def _take(group: _Group, limit: int) -> list[_Waiting]:
        batch: list[_Waiting] = []
        while group.waiting and len(batch) < limit:
            waiting = group.waiting.popleft()
            if not waiting.verdict.done():  # its caller gave up (deadline, cancellation)
                batch.append(waiting)
        return batch

    async def _check(
        self, key: _GroupKey, group: _Group, batch: list[_Waiting], struck: bool
    ) -> None:
        try:
            verdicts = await self._verifier.verify_batch(group.keys, [w.item for w in batch])
            if len(verdicts) != len(batch):
                raise RuntimeError("the verifier returned a verdict count that does not match")
        except Exception as exc:
            for waiting in batch:
                if not waiting.verdict.done():
                    waiting.verdict.set_exception(exc)
        except BaseException:
            for waiting in batch:
                waiting.verdict.cancel()
            raise
        else:
            failed = 0
            for waiting, verdict in zip(batch, verdicts, strict=True):
                failed += not verdict
                if not waiting.verdict.done():
                    waiting.verdict.set_result(bool(verdict))
            if failed:
                self._strike(group.origin, failed)
        finally:
            self._busy -= 1
            self._busy_struck -= struck
            self._in_flight[key] -= 1
            if not self._in_flight[key]:
                del self._in_flight[key]
            self._dispatch()

    # --- strikes ----------------------------------------------------------------------------

    def _strike_value(self, origin: str) -> float:
        strikes = self._strikes.get(origin)
        if strikes is None:
            return 0.0
        elapsed = self._clock.monotonic() - strikes.at
        return float(strikes.value * 0.5 ** (elapsed / self._half_life))

    def _is_struck(self, origin: str) -> bool:
        """One failed signature within about a half-life strikes an origin."""
        return self._strike_value(origin) >= 0.5

    def _strike(self, origin: str, failed: int) -> None:
        value = self._strike_value(origin) + failed
        self._strikes[origin] = _Strikes(value, self._clock.monotonic())
        if len(self._strikes) > _STRIKE_LIMIT:
            for stale in [o for o in self._strikes if self._strike_value(o) < 0.1]:
                del self._strikes[stale]
