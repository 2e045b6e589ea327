"""The bounded LRU and single flight under the reader."""

from __future__ import annotations

import asyncio

import pytest

from executor_adapters.chain.cache import MISSING, LruCache, SingleFlight


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LruCache[str, int | None] = LruCache(2)
    cache.put("a", 1)
    cache.put("b", None)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert cache.get("b") is MISSING
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)


def test_none_is_a_value_worth_caching() -> None:
    cache: LruCache[str, int | None] = LruCache(4)
    cache.put("a", None)
    assert cache.get("a") is None


async def test_concurrent_callers_of_one_key_share_one_fetch() -> None:
    flights: SingleFlight[str] = SingleFlight()
    fetches = 0
    release = asyncio.Event()

    async def fetch() -> int:
        nonlocal fetches
        fetches += 1
        await release.wait()
        return 42

    callers = [asyncio.create_task(flights.run("k", fetch)) for _ in range(64)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*callers) == [42] * 64
    assert fetches == 1
    assert len(flights) == 0


async def test_a_failure_reaches_every_caller_and_the_next_call_fetches_again() -> None:
    flights: SingleFlight[str] = SingleFlight()
    calls = 0

    async def failing() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        raise RuntimeError("down")

    results = await asyncio.gather(
        *(flights.run("k", failing) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    with pytest.raises(RuntimeError):
        await flights.run("k", failing)
    assert calls == 2


async def test_a_cancelled_caller_does_not_cancel_the_fetch_for_the_others() -> None:
    flights: SingleFlight[str] = SingleFlight()
    release = asyncio.Event()

    async def fetch() -> str:
        await release.wait()
        return "done"

    first = asyncio.create_task(flights.run("k", fetch))
    second = asyncio.create_task(flights.run("k", fetch))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    release.set()
    assert await second == "done"
    assert first.cancelled()
