"""Every read of the `ChainReader` port, at the latest block and pinned to older ones."""

from __future__ import annotations

import time

import pytest

from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ChainDataError, ChainUnavailable
from executor_core.ports import LATEST_BLOCK, KeyCurve, OperatorSet
from tests.contract.chain_reader.support import World, expected_domain_separator

AVS = AvsAddress.parse("0x" + "a1" * 20)
OTHER_AVS = AvsAddress.parse("0x" + "a2" * 20)
AGGREGATOR = Address.parse("0x" + "0a" * 20)
OPERATOR = Address.parse("0x" + "0b" * 20)
THIRD = Address.parse("0x" + "0c" * 20)
SIGNER = Address.parse("0x" + "5e" * 20)
AGG_SET = OperatorSet(AVS, 7)
EXEC_SET = OperatorSet(AVS, 1)
# Distinct words, so a swapped coordinate or limb would show.
G2_KEY = b"".join(bytes([n]) * 32 for n in (0x11, 0x22, 0x33, 0x44))
OTHER_G2_KEY = b"".join(bytes([n]) * 32 for n in (0x55, 0x66, 0x77, 0x08))


async def test_the_aggregator_set_id_comes_from_the_avs_registrars_config(world: World) -> None:
    block = world.register_avs(AVS, 7, [1, 2])
    assert await world.reader.aggregator_operator_set_id(AVS, block=block) == 7
    assert await world.reader.aggregator_operator_set_id(AVS, block=LATEST_BLOCK) == 7


async def test_an_avs_without_a_registrar_config_is_a_chain_data_error(world: World) -> None:
    world.register_avs(AVS, 7)
    with pytest.raises(ChainDataError):
        await world.reader.aggregator_operator_set_id(OTHER_AVS, block=LATEST_BLOCK)


@pytest.mark.parametrize("curve", [KeyCurve.ECDSA, KeyCurve.BN254])
async def test_the_curve_type_is_the_configured_one(world: World, curve: KeyCurve) -> None:
    block = world.configure(EXEC_SET, curve)
    assert await world.reader.curve_type(EXEC_SET, block=block) is curve
    assert await world.reader.curve_type(EXEC_SET, block=LATEST_BLOCK) is curve


async def test_an_unconfigured_set_has_no_curve(world: World) -> None:
    world.configure(EXEC_SET, KeyCurve.BN254)
    assert await world.reader.curve_type(AGG_SET, block=LATEST_BLOCK) is KeyCurve.NONE


async def test_a_bn254_key_reads_back_as_the_128_bytes_registered(world: World) -> None:
    world.configure(AGG_SET, KeyCurve.BN254)
    block = world.set_bn254_key(AGG_SET, AGGREGATOR, G2_KEY)
    assert await world.reader.bn254_key(AGG_SET, AGGREGATOR, block=block) == G2_KEY


async def test_an_operator_without_a_bn254_key_reads_as_empty(world: World) -> None:
    world.configure(AGG_SET, KeyCurve.BN254)
    world.set_bn254_key(AGG_SET, AGGREGATOR, G2_KEY)
    assert await world.reader.bn254_key(AGG_SET, OPERATOR, block=LATEST_BLOCK) == b""
    assert await world.reader.bn254_key(EXEC_SET, AGGREGATOR, block=LATEST_BLOCK) == b""


async def test_an_ecdsa_address_reads_back_and_none_when_unregistered(world: World) -> None:
    world.configure(EXEC_SET, KeyCurve.ECDSA)
    block = world.set_ecdsa_address(EXEC_SET, OPERATOR, SIGNER)
    assert await world.reader.ecdsa_address(EXEC_SET, OPERATOR, block=block) == SIGNER
    assert await world.reader.ecdsa_address(EXEC_SET, THIRD, block=block) is None


async def test_members_are_listed_in_order_and_a_removal_moves_the_last_one(world: World) -> None:
    for operator in (AGGREGATOR, OPERATOR, THIRD):
        world.add_member(EXEC_SET, operator)
    assert list(await world.reader.members(EXEC_SET, block=LATEST_BLOCK)) == [
        AGGREGATOR,
        OPERATOR,
        THIRD,
    ]
    block = world.remove_member(EXEC_SET, AGGREGATOR)
    assert list(await world.reader.members(EXEC_SET, block=block)) == [THIRD, OPERATOR]
    assert list(await world.reader.members(AGG_SET, block=block)) == []


async def test_membership_is_true_only_for_members_of_that_set(world: World) -> None:
    block = world.add_member(EXEC_SET, OPERATOR)
    assert await world.reader.is_member(OPERATOR, EXEC_SET, block=block) is True
    assert await world.reader.is_member(THIRD, EXEC_SET, block=block) is False
    assert await world.reader.is_member(OPERATOR, AGG_SET, block=block) is False


async def test_a_read_pinned_to_an_older_block_sees_the_state_then(world: World) -> None:
    world.configure(AGG_SET, KeyCurve.BN254)
    first = world.set_bn254_key(AGG_SET, AGGREGATOR, G2_KEY)
    joined = world.add_member(AGG_SET, AGGREGATOR)
    rotated = world.set_bn254_key(AGG_SET, AGGREGATOR, OTHER_G2_KEY)
    left = world.remove_member(AGG_SET, AGGREGATOR)
    reader = world.reader

    assert await reader.bn254_key(AGG_SET, AGGREGATOR, block=first) == G2_KEY
    assert await reader.bn254_key(AGG_SET, AGGREGATOR, block=rotated - 1) == G2_KEY
    assert await reader.bn254_key(AGG_SET, AGGREGATOR, block=rotated) == OTHER_G2_KEY
    assert await reader.bn254_key(AGG_SET, AGGREGATOR, block=first - 1) == b""
    assert await reader.is_member(AGGREGATOR, AGG_SET, block=joined - 1) is False
    assert await reader.is_member(AGGREGATOR, AGG_SET, block=joined) is True
    assert await reader.is_member(AGGREGATOR, AGG_SET, block=left) is False
    assert await reader.is_member(AGGREGATOR, AGG_SET, block=LATEST_BLOCK) is False


async def test_a_changed_avs_config_is_seen_from_its_block_on(world: World) -> None:
    before = world.register_avs(AVS, 7)
    later = world.register_avs(AVS, 9)
    assert await world.reader.aggregator_operator_set_id(AVS, block=before) == 7
    assert await world.reader.aggregator_operator_set_id(AVS, block=later) == 9
    assert await world.reader.aggregator_operator_set_id(AVS, block=LATEST_BLOCK) == 9


async def test_a_curve_configured_later_is_none_at_an_earlier_block(world: World) -> None:
    earlier = world.mine()
    configured = world.configure(EXEC_SET, KeyCurve.ECDSA)
    assert await world.reader.curve_type(EXEC_SET, block=configured) is KeyCurve.ECDSA
    assert await world.reader.curve_type(EXEC_SET, block=earlier) is KeyCurve.NONE


async def test_a_block_past_the_newest_is_a_chain_data_error(world: World) -> None:
    newest = world.mine()
    with pytest.raises(ChainDataError):
        await world.reader.curve_type(EXEC_SET, block=newest + 1000)


async def test_the_domain_separator_is_the_verifiers(world: World) -> None:
    assert await world.reader.ecdsa_domain_separator() == expected_domain_separator()


async def test_an_endpoint_that_is_down_is_chain_unavailable_at_once(world: World) -> None:
    reader = world.unreachable_reader()
    started = time.monotonic()
    try:
        with pytest.raises(ChainUnavailable):
            await reader.curve_type(EXEC_SET, block=LATEST_BLOCK)
        with pytest.raises(ChainUnavailable):
            await reader.ecdsa_domain_separator()
    finally:
        await reader.aclose()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 1.0
