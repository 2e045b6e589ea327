"""Aggregator keys from chain (first generation, simulated peering off), refreshed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from executor_adapters.memory.chain import InMemoryChain
from executor_adapters.peering.chain import ChainAggregatorKeys
from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ChainUnavailable
from executor_core.ports import KeyCurve, OperatorSet

AVS = AvsAddress.parse("0x" + "a1" * 20)
AGGREGATOR = Address.parse("0x" + "0a" * 20)
STRANGER = Address.parse("0x" + "0c" * 20)
AGG_SET = OperatorSet(AVS, 7)
KEY = bytes(range(128))
NEW_KEY = bytes(range(1, 129))


class SteppedClock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.seconds, UTC)

    def monotonic(self) -> float:
        return self.seconds


@pytest.fixture
def chain() -> InMemoryChain:
    chain = InMemoryChain()
    chain.set_avs_config(AVS, 7, [1])
    chain.set_curve(AGG_SET, KeyCurve.BN254)
    chain.set_bn254_key(AGG_SET, AGGREGATOR, KEY)
    chain.add_member(AGG_SET, AGGREGATOR)
    return chain


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


async def test_a_member_of_the_aggregator_set_has_its_registered_key(
    chain: InMemoryChain, clock: SteppedClock
) -> None:
    keys = ChainAggregatorKeys(chain, clock=clock)
    assert await keys.keys_for(AVS, AGGREGATOR) == (KEY,)


async def test_an_operator_outside_the_aggregator_set_has_no_keys(
    chain: InMemoryChain, clock: SteppedClock
) -> None:
    chain.set_bn254_key(AGG_SET, STRANGER, NEW_KEY)  # registered, but not a member
    assert await ChainAggregatorKeys(chain, clock=clock).keys_for(AVS, STRANGER) == ()


async def test_a_member_without_a_registered_key_has_no_keys(
    chain: InMemoryChain, clock: SteppedClock
) -> None:
    chain.add_member(AGG_SET, STRANGER)
    assert await ChainAggregatorKeys(chain, clock=clock).keys_for(AVS, STRANGER) == ()


async def test_an_aggregator_set_that_is_not_bn254_gives_no_keys(clock: SteppedClock) -> None:
    chain = InMemoryChain()
    chain.set_avs_config(AVS, 7)
    chain.set_curve(AGG_SET, KeyCurve.ECDSA)
    chain.add_member(AGG_SET, AGGREGATOR)
    assert await ChainAggregatorKeys(chain, clock=clock).keys_for(AVS, AGGREGATOR) == ()


async def test_an_avs_that_is_not_on_chain_gives_no_keys(clock: SteppedClock) -> None:
    keys = ChainAggregatorKeys(InMemoryChain(), clock=clock)
    assert await keys.keys_for(AVS, AGGREGATOR) == ()


async def test_answers_are_kept_for_the_refresh_period_then_read_again(
    chain: InMemoryChain, clock: SteppedClock
) -> None:
    keys = ChainAggregatorKeys(chain, refresh_seconds=60, clock=clock)
    assert await keys.keys_for(AVS, AGGREGATOR) == (KEY,)
    reads = chain.total_calls
    chain.set_bn254_key(AGG_SET, AGGREGATOR, NEW_KEY)
    clock.seconds += 59
    assert await keys.keys_for(AVS, AGGREGATOR) == (KEY,)
    assert chain.total_calls == reads
    clock.seconds += 1
    assert await keys.keys_for(AVS, AGGREGATOR) == (NEW_KEY,)


async def test_an_unknown_aggregator_costs_one_read_while_the_avs_set_is_fresh(
    chain: InMemoryChain, clock: SteppedClock
) -> None:
    keys = ChainAggregatorKeys(chain, clock=clock)
    await keys.keys_for(AVS, AGGREGATOR)
    reads = chain.total_calls
    assert await keys.keys_for(AVS, STRANGER) == ()
    assert chain.calls["is_member"] == 2
    assert chain.total_calls == reads + 1


async def test_an_unreachable_chain_propagates_and_is_not_remembered(
    chain: InMemoryChain, clock: SteppedClock
) -> None:
    keys = ChainAggregatorKeys(chain, clock=clock)
    chain.unavailable = True
    with pytest.raises(ChainUnavailable):
        await keys.keys_for(AVS, AGGREGATOR)
    chain.unavailable = False
    assert await keys.keys_for(AVS, AGGREGATOR) == (KEY,)
