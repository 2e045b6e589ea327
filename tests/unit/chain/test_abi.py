"""The contract calls' calldata and decoders: selectors, word layout, and malformed answers."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import pytest
from eth_abi.abi import encode
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.chain import abi
from executor_adapters.signing.keccak import keccak256
from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ChainDataError
from executor_core.ports import KeyCurve, OperatorSet

AVS = AvsAddress.parse("0x" + "a1" * 20)
OPERATOR = Address.parse("0x" + "0b" * 20)
SET = OperatorSet(AVS, 7)


def word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def address_word(address: Address) -> bytes:
    return bytes.fromhex(address.value[2:]).rjust(32, b"\0")


@pytest.mark.parametrize(
    ("call", "signature"),
    [
        (abi.get_avs_registrar(AVS), "getAVSRegistrar(address)"),
        (abi.get_members(SET), "getMembers((address,uint32))"),
        (
            abi.is_member_of_operator_set(OPERATOR, SET),
            "isMemberOfOperatorSet(address,(address,uint32))",
        ),
        (abi.get_operator_set_curve_type(SET), "getOperatorSetCurveType((address,uint32))"),
        (abi.get_bn254_key(SET, OPERATOR), "getBN254Key((address,uint32),address)"),
        (abi.get_ecdsa_address(SET, OPERATOR), "getECDSAAddress((address,uint32),address)"),
        (abi.get_avs_config(), "getAvsConfig()"),
        (abi.get_operator_socket(OPERATOR), "getOperatorSocket(address)"),
        (abi.domain_separator(), "domainSeparator()"),
    ],
    ids=lambda value: value.name if isinstance(value, abi.ContractCall) else "",
)
def test_each_call_starts_with_the_selector_of_its_signature(
    call: abi.ContractCall[Any], signature: str
) -> None:
    assert call.data[:4] == keccak256(signature.encode())[:4]


def test_arguments_are_encoded_as_static_words_in_order() -> None:
    call = abi.get_bn254_key(SET, OPERATOR)
    assert call.data[4:] == address_word(AVS) + word(7) + address_word(OPERATOR)
    assert abi.is_member_of_operator_set(OPERATOR, SET).data[4:] == (
        address_word(OPERATOR) + address_word(AVS) + word(7)
    )
    assert abi.get_avs_config().data == abi.GET_AVS_CONFIG


def test_a_bn254_key_is_x0_x1_y0_y1_as_the_contract_returns_them_and_g1_is_ignored() -> None:
    g1 = word(1) + word(2)
    answer = g1 + word(11) + word(12) + word(21) + word(22)
    key = abi.get_bn254_key(SET, OPERATOR).decode(answer)
    assert key == word(11) + word(12) + word(21) + word(22)
    assert abi.g2_key_words(key) == ((11, 12), (21, 22))


def test_an_all_zero_bn254_key_means_none_registered() -> None:
    assert abi.get_bn254_key(SET, OPERATOR).decode(word(1) + word(2) + bytes(128)) == b""


def test_the_avs_config_struct_decodes_with_its_offset_word() -> None:
    answer = word(32) + word(9) + word(64) + word(2) + word(1) + word(3)
    assert abi.get_avs_config().decode(answer) == abi.AvsConfig(9, (1, 3))


def test_the_zero_ecdsa_address_means_none_registered() -> None:
    call = abi.get_ecdsa_address(SET, OPERATOR)
    assert call.decode(bytes(32)) is None
    assert call.decode(address_word(OPERATOR)) == OPERATOR


def test_members_socket_membership_curve_and_domain_separator_decode() -> None:
    members = word(32) + word(2) + address_word(OPERATOR) + address_word(AVS)
    assert abi.get_members(SET).decode(members) == (OPERATOR, Address(AVS.value))
    socket_answer = word(32) + word(14) + b"127.0.0.1:9000".ljust(32, b"\0")
    assert abi.get_operator_socket(OPERATOR).decode(socket_answer) == "127.0.0.1:9000"
    assert abi.is_member_of_operator_set(OPERATOR, SET).decode(word(1)) is True
    assert abi.get_operator_set_curve_type(SET).decode(word(2)) is KeyCurve.BN254
    assert abi.domain_separator().decode(b"\x07" * 32) == b"\x07" * 32
    assert abi.get_avs_registrar(AVS).decode(address_word(OPERATOR)) == OPERATOR


@pytest.mark.parametrize(
    ("call", "answer", "problem"),
    [
        (abi.get_avs_config(), b"", "returned no data"),
        (abi.get_operator_set_curve_type(SET), word(3), "unknown curve type 3"),
        (abi.get_operator_set_curve_type(SET), word(256), "does not allow"),
        (abi.is_member_of_operator_set(OPERATOR, SET), word(2), "does not allow"),
        (abi.get_bn254_key(SET, OPERATOR), word(1) * 5, "does not allow"),
        (abi.get_members(SET), word(32) + word(2**64), "does not allow"),
    ],
    ids=["empty", "curve-3", "curve-256", "bool-2", "short-key", "huge-array"],
)
def test_a_malformed_answer_is_a_chain_data_error_naming_the_call(
    call: abi.ContractCall[Any], answer: bytes, problem: str
) -> None:
    with pytest.raises(ChainDataError, match=problem) as raised:
        call.decode(answer)
    assert call.name in str(raised.value)


ALL_CALLS: list[abi.ContractCall[Any]] = [
    abi.get_avs_registrar(AVS),
    abi.get_members(SET),
    abi.is_member_of_operator_set(OPERATOR, SET),
    abi.get_operator_set_curve_type(SET),
    abi.get_bn254_key(SET, OPERATOR),
    abi.get_ecdsa_address(SET, OPERATOR),
    abi.get_avs_config(),
    abi.get_operator_socket(OPERATOR),
    abi.domain_separator(),
]


@given(
    call=st.sampled_from(ALL_CALLS),
    answer=st.one_of(
        st.binary(max_size=400),
        # Mostly-valid words: small offsets and lengths reach deeper into the decoders.
        st.lists(
            st.integers(0, 300).map(word) | st.binary(min_size=32, max_size=32), max_size=12
        ).map(b"".join),
    ),
)
def test_decoding_any_bytes_raises_nothing_but_chain_data_error(
    call: abi.ContractCall[Any], answer: bytes
) -> None:
    with contextlib.suppress(ChainDataError):
        call.decode(answer)


uint32 = st.integers(0, 2**32 - 1)
addresses = st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex())


@given(aggregator=uint32, executors=st.lists(uint32, max_size=8))
def test_any_avs_config_round_trips(aggregator: int, executors: list[int]) -> None:
    answer = encode(["(uint32,uint32[])"], [(aggregator, executors)])
    assert abi.get_avs_config().decode(answer) == abi.AvsConfig(aggregator, tuple(executors))


@given(members=st.lists(addresses, max_size=8))
def test_any_member_list_round_trips(members: list[str]) -> None:
    answer = encode(["address[]"], [members])
    assert abi.get_members(SET).decode(answer) == tuple(Address(m) for m in members)


@given(key=st.binary(min_size=128, max_size=128).filter(any))
def test_any_registered_g2_key_round_trips(key: bytes) -> None:
    x, y = abi.g2_key_words(key)
    answer = encode(["(uint256,uint256)", "(uint256[2],uint256[2])"], [(1, 2), (list(x), list(y))])
    assert abi.get_bn254_key(SET, OPERATOR).decode(answer) == key


@given(text=st.text(max_size=80))
def test_any_socket_round_trips(text: str) -> None:
    answer = encode(["string"], [text])
    assert abi.get_operator_socket(OPERATOR).decode(answer) == text


def _builders() -> list[Callable[[], abi.ContractCall[Any]]]:
    return [lambda: abi.get_bn254_key(SET, OPERATOR), abi.get_avs_config]


@pytest.mark.parametrize("build", _builders())
def test_building_the_same_call_twice_gives_the_same_calldata(
    build: Callable[[], abi.ContractCall[Any]],
) -> None:
    assert build().data == build().data
