"""SignatureBatcher: when signatures wait and are checked together, and who is served first."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor_adapters.memory import FakeClock, FakeTaskSignatureVerifier, fake_task_signature
from executor_core.ports import SignedMessage
from executor_core.signature_batches import PARALLEL_BATCH, STRUCK_BATCH, SignatureBatcher

KEY = bytes(range(128))
OTHER_KEY = bytes(reversed(range(128)))


def good(n: int) -> tuple[bytes, bytes]:
    message = n.to_bytes(8, "big")
    return message, fake_task_signature(KEY, message)


def bad(n: int) -> tuple[bytes, bytes]:
    message = n.to_bytes(8, "big")
    return message, fake_task_signature(OTHER_KEY, message)


def batcher(verifier: FakeTaskSignatureVerifier, **options: object) -> SignatureBatcher:
    values: dict[str, object] = {"workers": 2, "failure_delay": 0.0, **options}
    return SignatureBatcher(verifier, FakeClock(), **values)  # type: ignore[arg-type]


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_a_lone_signature_is_checked_at_once_alone() -> None:
    verifier = FakeTaskSignatureVerifier()

    assert await batcher(verifier).verify([KEY], *good(1)) is True
    assert verifier.batches == [1]


async def test_signatures_that_arrive_while_the_workers_are_busy_are_checked_together() -> None:
    verifier = FakeTaskSignatureVerifier()
    verifier.gate = asyncio.Event()
    checker = batcher(verifier, workers=1)
    first = asyncio.create_task(checker.verify([KEY], *good(0)))
    await settle()
    waiting = [asyncio.create_task(checker.verify([KEY], *good(n))) for n in range(1, 21)]
    await settle()

    assert verifier.batches == [1]
    assert checker.waiting == 20
    verifier.gate.set()
    assert await asyncio.gather(first, *waiting) == [True] * 21
    assert verifier.batches == [1, 20]


async def test_a_second_worker_starts_only_on_a_backlog() -> None:
    verifier = FakeTaskSignatureVerifier()
    verifier.gate = asyncio.Event()
    checker = batcher(verifier, workers=2)
    calls = [asyncio.create_task(checker.verify([KEY], *good(0)))]
    await settle()
    calls += [
        asyncio.create_task(checker.verify([KEY], *good(n))) for n in range(1, PARALLEL_BATCH)
    ]
    await settle()

    assert verifier.batches == [1]
    calls.append(asyncio.create_task(checker.verify([KEY], *good(PARALLEL_BATCH))))
    await settle()
    assert verifier.batches == [1, PARALLEL_BATCH]
    verifier.gate.set()
    assert all(await asyncio.gather(*calls))


async def test_a_batch_is_never_larger_than_max_batch() -> None:
    verifier = FakeTaskSignatureVerifier()
    verifier.gate = asyncio.Event()
    checker = batcher(verifier, workers=1, max_batch=5)
    calls = [asyncio.create_task(checker.verify([KEY], *good(n))) for n in range(13)]
    await settle()
    verifier.gate.set()
    await asyncio.gather(*calls)

    assert verifier.batches == [1, 5, 5, 2]


async def test_different_keys_and_origins_are_never_mixed_in_one_batch() -> None:
    verifier = FakeTaskSignatureVerifier()
    verifier.gate = asyncio.Event()
    checker = batcher(verifier, workers=1)
    calls = [asyncio.create_task(checker.verify([KEY], *good(0)))]
    await settle()
    calls += [asyncio.create_task(checker.verify([KEY], *good(n), origin="a")) for n in (1, 2)]
    calls += [asyncio.create_task(checker.verify([KEY], *good(n), origin="b")) for n in (3, 4)]
    calls += [asyncio.create_task(checker.verify([OTHER_KEY], *good(5), origin="a"))]
    verifier.gate.set()
    results = await asyncio.gather(*calls)

    assert results == [True, True, True, True, True, False]
    assert sorted(verifier.batches) == [1, 1, 2, 2]
    by_key = {keys for keys, _, _ in verifier.checked}
    assert by_key == {(KEY,), (OTHER_KEY,)}


async def test_a_caller_that_gives_up_is_left_out_of_the_next_batch() -> None:
    verifier = FakeTaskSignatureVerifier()
    verifier.gate = asyncio.Event()
    checker = batcher(verifier, workers=1)
    first = asyncio.create_task(checker.verify([KEY], *good(0)))
    await settle()
    gives_up = asyncio.create_task(checker.verify([KEY], *good(1)))
    stays = asyncio.create_task(checker.verify([KEY], *good(2)))
    await settle()
    gives_up.cancel()
    verifier.gate.set()

    assert await first is True
    assert await stays is True
    assert verifier.batches == [1, 1]
    with pytest.raises(asyncio.CancelledError):
        await gives_up


async def test_a_failing_verifier_fails_every_caller_of_its_batch_and_the_next_batch_runs() -> None:
    class Broken(FakeTaskSignatureVerifier):
        async def verify_batch(
            self, public_keys: Sequence[bytes], items: Sequence[SignedMessage]
        ) -> list[bool]:
            if not self.batches:
                self.batches.append(len(items))
                raise RuntimeError("library failure")
            return await super().verify_batch(public_keys, items)

    checker = batcher(Broken())

    with pytest.raises(RuntimeError, match="library failure"):
        await checker.verify([KEY], *good(1))
    assert await checker.verify([KEY], *good(2)) is True


async def test_an_origin_whose_signatures_failed_is_served_after_clean_ones_in_small_batches() -> (
    None
):
    verifier = FakeTaskSignatureVerifier()
    checker = batcher(verifier, workers=1)
    assert await checker.verify([KEY], *bad(0), origin="flooder") is False

    verifier.gate = asyncio.Event()
    blocker = asyncio.create_task(checker.verify([KEY], *good(1), origin="honest"))
    await settle()
    flood = [
        asyncio.create_task(checker.verify([KEY], *bad(n), origin="flooder")) for n in range(10)
    ]
    await settle()
    valid = [
        asyncio.create_task(checker.verify([KEY], *good(n), origin="honest")) for n in range(3)
    ]
    await settle()
    verifier.gate.set()
    await asyncio.gather(blocker, *valid, *flood)

    honest_signatures = {good(n)[1] for n in range(3)}
    assert verifier.batches == [1, 1, 3, STRUCK_BATCH, STRUCK_BATCH, 10 - 2 * STRUCK_BATCH]
    assert {signature for _, _, signature in verifier.checked[2:5]} == honest_signatures


async def test_a_struck_origin_never_holds_every_worker() -> None:
    verifier = FakeTaskSignatureVerifier()
    checker = batcher(verifier, workers=2)
    assert await checker.verify([KEY], *bad(0), origin="flooder") is False
    verifier.gate = asyncio.Event()
    flood = [
        asyncio.create_task(checker.verify([KEY], *bad(n), origin="flooder")) for n in range(1, 20)
    ]
    await settle()

    assert len(verifier.batches) == 2  # the first check, then one flood batch on one worker
    honest = asyncio.create_task(checker.verify([KEY], *good(99), origin="honest"))
    await settle()
    assert len(verifier.batches) == 3  # the other worker takes the honest one at once
    verifier.gate.set()
    assert await honest is True
    assert not any(await asyncio.gather(*flood))


class SteppedClock(FakeClock):
    """Monotonic time that moves only when told to."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 100.0

    def monotonic(self) -> float:
        return self.seconds


async def test_strikes_fade_with_time() -> None:
    clock = SteppedClock()
    checker = SignatureBatcher(
        FakeTaskSignatureVerifier(), clock, workers=1, strike_half_life=1.0, failure_delay=0.0
    )
    assert await checker.verify([KEY], *bad(0), origin="x") is False
    assert checker._is_struck("x")

    clock.seconds += 0.9
    assert checker._is_struck("x")
    clock.seconds += 0.2
    assert not checker._is_struck("x")


async def test_refusals_of_a_struck_origin_come_late_and_its_good_signatures_do_not() -> None:
    checker = SignatureBatcher(
        FakeTaskSignatureVerifier(), FakeClock(), workers=1, failure_delay=0.05
    )
    loop = asyncio.get_running_loop()
    start = loop.time()
    assert await checker.verify([KEY], *bad(0), origin="x") is False
    assert await checker.verify([KEY], *good(1), origin="x") is True
    assert await checker.verify([KEY], *good(2), origin="y") is True

    assert loop.time() - start < 0.1
    start = loop.time()
    assert await checker.verify([KEY], *bad(3), origin="x") is False
    assert loop.time() - start >= 0.05


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from(["", "a", "b"]), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 3),
    st.integers(1, 8),
)
def test_every_caller_gets_exactly_its_own_signatures_verdict(
    calls: list[tuple[bool, str, bool]], workers: int, max_batch: int
) -> None:
    async def scenario() -> None:
        verifier = FakeTaskSignatureVerifier()
        checker = batcher(verifier, workers=workers, max_batch=max_batch)
        tasks = []
        for n, (valid, origin, yield_first) in enumerate(calls):
            if yield_first:
                await asyncio.sleep(0)
            message, signature = good(n) if valid else bad(n)
            tasks.append(
                asyncio.create_task(checker.verify([KEY], message, signature, origin=origin))
            )
        assert await asyncio.gather(*tasks) == [valid for valid, _, _ in calls]
        assert sum(verifier.batches) == len(calls)
        assert max(verifier.batches) <= max_batch

    asyncio.run(scenario())
