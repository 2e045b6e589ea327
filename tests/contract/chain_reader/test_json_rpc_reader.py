"""What only the JSON-RPC reader does, on a real anvil: caching, coalescing, its failures."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import attrs
import pytest

from executor_adapters.chain import ChainConfigError, JsonRpcChainReader
from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ChainDataError, ChainUnavailable
from executor_core.ports import LATEST_BLOCK, KeyCurve, OperatorSet
from tests.chain_support import ALLOCATION_MANAGER, ANVIL_CHAIN_ID, AnvilNode, DevChain
from tests.contract.chain_reader.support import G1_KEY, expected_domain_separator

AVS = AvsAddress.parse("0x" + "a1" * 20)
AGGREGATOR = Address.parse("0x" + "0a" * 20)
OPERATOR = Address.parse("0x" + "0b" * 20)
AGG_SET = OperatorSet(AVS, 7)
G2_KEY = b"".join(bytes([n]) * 32 for n in (0x11, 0x22, 0x33, 0x44))


@attrs.frozen
class Setup:
    chain: DevChain
    reader: JsonRpcChainReader
    block: int
    """A block at which the AVS, its aggregator set (BN254), key and membership exist."""


@pytest.fixture
async def setup(dev_chain: DevChain) -> AsyncIterator[Setup]:
    dev_chain.register_avs(AVS, 7, [1])
    dev_chain.configure_operator_set(AVS, 7, KeyCurve.BN254)
    dev_chain.set_bn254_key(AVS, 7, AGGREGATOR, G1_KEY, G2_KEY)
    block = dev_chain.add_member(AVS, 7, AGGREGATOR)
    reader = await JsonRpcChainReader.open(dev_chain.node.url, timeout=5.0)
    try:
        yield Setup(dev_chain, reader, block)
    finally:
        await reader.aclose()


async def task_reads(reader: JsonRpcChainReader, block: int) -> bytes:
    """What a second-generation task reads about its aggregator at the task's block."""
    set_id = await reader.aggregator_operator_set_id(AVS, block=block)
    operator_set = OperatorSet(AVS, set_id)
    assert await reader.curve_type(operator_set, block=block) is KeyCurve.BN254
    assert await reader.is_member(AGGREGATOR, operator_set, block=block)
    return await reader.bn254_key(operator_set, AGGREGATOR, block=block)


async def test_the_reader_takes_the_addresses_of_the_chain_the_endpoint_reports(
    setup: Setup,
) -> None:
    assert setup.reader.chain_id == ANVIL_CHAIN_ID
    assert setup.reader.contracts.allocation_manager == Address.parse(ALLOCATION_MANAGER)


async def test_a_configured_chain_id_that_differs_from_the_endpoints_is_refused(
    anvil: AnvilNode,
) -> None:
    with pytest.raises(ChainConfigError, match=r"11155111.*31337"):
        await JsonRpcChainReader.open(anvil.url, expected_chain_id=11155111)


async def test_a_repeated_read_at_a_fixed_block_sends_no_second_eth_call(setup: Setup) -> None:
    reader = setup.reader
    assert await reader.bn254_key(AGG_SET, AGGREGATOR, block=setup.block) == G2_KEY
    sent = reader.eth_calls
    assert await reader.bn254_key(AGG_SET, AGGREGATOR, block=setup.block) == G2_KEY
    assert reader.eth_calls == sent


async def test_every_read_at_the_latest_block_is_sent(setup: Setup) -> None:
    reader = setup.reader
    await reader.is_member(AGGREGATOR, AGG_SET, block=LATEST_BLOCK)
    sent = reader.eth_calls
    await reader.is_member(AGGREGATOR, AGG_SET, block=LATEST_BLOCK)
    assert reader.eth_calls == sent + 1


async def test_a_task_costs_four_eth_calls_on_a_cold_block_and_none_on_a_warm_one(
    setup: Setup,
) -> None:
    reader = setup.reader
    assert await task_reads(reader, setup.block) == G2_KEY  # learns the curve
    cold = setup.chain.node.mine()
    sent = reader.eth_calls
    assert await task_reads(reader, cold) == G2_KEY
    assert reader.eth_calls - sent == 4
    sent = reader.eth_calls
    assert await task_reads(reader, cold) == G2_KEY
    assert reader.eth_calls == sent


async def test_sixty_four_concurrent_tasks_on_a_cold_block_send_each_read_once(
    setup: Setup,
) -> None:
    reader = setup.reader
    keys = await asyncio.gather(*(task_reads(reader, setup.block) for _ in range(64)))
    assert set(keys) == {G2_KEY}
    # getAVSRegistrar, getAvsConfig, getOperatorSetCurveType, isMemberOfOperatorSet, getBN254Key
    assert reader.eth_calls == 5


async def test_a_curve_seen_at_a_block_answers_later_blocks_but_not_earlier_ones(
    dev_chain: DevChain,
) -> None:
    before = dev_chain.node.mine()
    configured = dev_chain.configure_operator_set(AVS, 7, KeyCurve.BN254)
    later = dev_chain.node.mine(3)
    async with await JsonRpcChainReader.open(dev_chain.node.url) as reader:
        assert await reader.curve_type(AGG_SET, block=configured) is KeyCurve.BN254
        sent = reader.eth_calls
        assert await reader.curve_type(AGG_SET, block=later) is KeyCurve.BN254
        assert await reader.curve_type(AGG_SET, block=LATEST_BLOCK) is KeyCurve.BN254
        assert reader.eth_calls == sent
        assert await reader.curve_type(AGG_SET, block=before) is KeyCurve.NONE
        assert reader.eth_calls == sent + 1


async def test_the_domain_separator_is_read_once(setup: Setup) -> None:
    reader = setup.reader
    assert await reader.ecdsa_domain_separator() == expected_domain_separator()
    assert await reader.ecdsa_domain_separator() == expected_domain_separator()
    assert reader.rpc.requests["eth_call"] == 1


async def test_a_failed_read_is_not_cached(setup: Setup) -> None:
    other = AvsAddress.parse("0x" + "a2" * 20)
    reader = setup.reader
    # getAVSRegistrar answers (the AVS itself) and is cached; getAvsConfig on it has no code.
    for sent in (2, 3):
        with pytest.raises(ChainDataError):
            await reader.aggregator_operator_set_id(other, block=setup.block)
        assert reader.eth_calls == sent


async def test_a_contract_without_code_is_a_chain_data_error_naming_the_call(
    setup: Setup,
) -> None:
    other = AvsAddress.parse("0x" + "a2" * 20)
    with pytest.raises(ChainDataError, match=r"TaskAVSRegistrar\.getAvsConfig.*no data"):
        await setup.reader.aggregator_operator_set_id(other, block=LATEST_BLOCK)


async def test_a_revert_is_a_chain_data_error_naming_the_call(dev_chain: DevChain) -> None:
    # The AllocationManager mock has no getOperatorSetCurveType: calling it there reverts.
    overrides = {"key_registrar": Address.parse(ALLOCATION_MANAGER)}
    async with await JsonRpcChainReader.open(dev_chain.node.url, overrides=overrides) as reader:
        with pytest.raises(ChainDataError, match=r"KeyRegistrar\.getOperatorSetCurveType"):
            await reader.curve_type(AGG_SET, block=LATEST_BLOCK)


async def test_an_endpoint_that_goes_down_is_chain_unavailable_within_a_second(
    fresh_anvil: AnvilNode,
) -> None:
    async with await JsonRpcChainReader.open(fresh_anvil.url, timeout=5.0) as reader:
        with fresh_anvil.refusing():
            started = time.monotonic()
            with pytest.raises(ChainUnavailable, match=r"http://127\.0\.0\.1:\d+"):
                await reader.curve_type(AGG_SET, block=LATEST_BLOCK)
            assert time.monotonic() - started < 1.0


async def test_an_endpoint_that_hangs_is_chain_unavailable_after_the_timeout(
    fresh_anvil: AnvilNode,
) -> None:
    async with await JsonRpcChainReader.open(fresh_anvil.url, timeout=0.5) as reader:
        with fresh_anvil.paused():
            started = time.monotonic()
            with pytest.raises(ChainUnavailable, match=r"no answer within 0\.5 s"):
                await reader.curve_type(AGG_SET, block=LATEST_BLOCK)
            elapsed = time.monotonic() - started
    assert 0.45 < elapsed < 2.0
