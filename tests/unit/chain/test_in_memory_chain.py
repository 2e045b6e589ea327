"""What only InMemoryChain does: explicit `from_block`, the unavailable switch, call counts."""

from __future__ import annotations

import pytest

from executor_adapters.memory import InMemoryChain
from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ChainUnavailable
from executor_core.ports import LATEST_BLOCK, KeyCurve, OperatorSet

AVS = AvsAddress.parse("0x" + "a1" * 20)
OPERATOR = Address.parse("0x" + "0b" * 20)
SET = OperatorSet(AVS, 3)
KEY = bytes(range(128))


async def test_a_value_holds_from_its_block_until_a_later_set() -> None:
    chain = InMemoryChain()
    chain.set_avs_config(AVS, 1, from_block=10)
    chain.set_avs_config(AVS, 2, from_block=20)
    assert await chain.aggregator_operator_set_id(AVS, block=10) == 1
    assert await chain.aggregator_operator_set_id(AVS, block=19) == 1
    assert await chain.aggregator_operator_set_id(AVS, block=20) == 2
    assert await chain.aggregator_operator_set_id(AVS, block=LATEST_BLOCK) == 2
    assert chain.block_number == 20


async def test_setters_without_a_block_land_in_the_next_one_and_return_it() -> None:
    chain = InMemoryChain()
    assert chain.set_curve(SET, KeyCurve.BN254) == 1
    assert chain.set_bn254_key(SET, OPERATOR, KEY) == 2
    assert chain.add_member(SET, OPERATOR, from_block=9) == 9
    assert chain.remove_member(SET, OPERATOR) == 10
    assert await chain.is_member(OPERATOR, SET, block=9) is True
    assert await chain.is_member(OPERATOR, SET, block=10) is False
    assert await chain.bn254_key(SET, OPERATOR, block=1) == b""


async def test_the_unavailable_switch_makes_every_read_fail_and_counts_it() -> None:
    chain = InMemoryChain(domain_separator=b"\x01" * 32)
    chain.unavailable = True
    with pytest.raises(ChainUnavailable):
        await chain.curve_type(SET, block=LATEST_BLOCK)
    with pytest.raises(ChainUnavailable):
        await chain.ecdsa_domain_separator()
    assert chain.calls == {"curve_type": 1, "ecdsa_domain_separator": 1}
    chain.unavailable = False
    assert await chain.ecdsa_domain_separator() == b"\x01" * 32


def test_a_key_that_is_not_a_g2_point_is_refused() -> None:
    with pytest.raises(ValueError, match="128 bytes"):
        InMemoryChain().set_bn254_key(SET, OPERATOR, bytes(64))
