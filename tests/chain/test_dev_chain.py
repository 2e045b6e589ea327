"""The dev chain itself: our Solidity mocks answer with EigenLayer's ABI and keep history.

Other suites trust these mocks to stand in for EigenLayer's contracts, so the selectors are
checked against the ones upstream's executor calls, and reads pinned to an older block must see
the older state, as they would on a real chain.
"""

from __future__ import annotations

import urllib.error

import pytest

from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from tests.chain_support import (
    ALLOCATION_MANAGER,
    ANVIL_CHAIN_ID,
    AnvilNode,
    DevChain,
    RpcError,
    compile_contracts,
    registrar_address,
)

AVS = "0x" + "a1" * 20
OTHER_AVS = "0x" + "a2" * 20
OPERATOR = "0x" + "0b" * 20
OTHER_OPERATOR = "0x" + "0c" * 20
ZERO_ADDRESS = "0x" + "00" * 20

UPSTREAM_SELECTORS = [
    ("MockAllocationManager", "getAVSRegistrar(address)", "304c10cd"),
    ("MockAllocationManager", "getMembers((address,uint32))", "6e875dba"),
    ("MockAllocationManager", "isMemberOfOperatorSet(address,(address,uint32))", "670d3ba2"),
    ("MockKeyRegistrar", "getOperatorSetCurveType((address,uint32))", "7cffe48c"),
    ("MockKeyRegistrar", "getBN254Key((address,uint32),address)", "9a43e3fb"),
    ("MockKeyRegistrar", "getECDSAAddress((address,uint32),address)", "3b32a7bd"),
    ("MockTaskAVSRegistrar", "getAvsConfig()", "41f548f0"),
    ("MockTaskAVSRegistrar", "getOperatorSocket(address)", "8481931d"),
    ("MockTaskMailbox", "getMessageHash(bytes32,bytes)", "37eaa104"),
    ("MockBN254CertificateVerifier", "calculateCertificateDigest(uint32,bytes32)", "18467434"),
    (
        "MockECDSACertificateVerifier",
        "calculateCertificateDigestBytes(uint32,bytes32)",
        "702ca531",
    ),
    ("MockECDSACertificateVerifier", "domainSeparator()", "f698da25"),
]


@pytest.mark.chain
@pytest.mark.parametrize(("contract", "signature", "expected"), UPSTREAM_SELECTORS)
def test_each_mock_has_the_selector_upstream_calls(
    contract: str, signature: str, expected: str
) -> None:
    assert compile_contracts()[contract].selectors[signature] == expected


def test_the_node_answers_with_the_anvil_chain_id(anvil: AnvilNode) -> None:
    assert int(anvil.rpc("eth_chainId"), 16) == ANVIL_CHAIN_ID


def test_the_allocation_manager_names_the_avs_itself_until_a_registrar_is_set(
    dev_chain: DevChain,
) -> None:
    assert dev_chain.avs_registrar(AVS) == AVS


def test_register_avs_places_a_registrar_that_returns_its_config(dev_chain: DevChain) -> None:
    registrar = dev_chain.register_avs(AVS, 0, [1, 7])

    assert registrar == registrar_address(AVS)
    assert dev_chain.avs_registrar(AVS) == registrar
    assert dev_chain.avs_config(registrar) == (0, [1, 7])
    assert dev_chain.avs_registrar(OTHER_AVS) == OTHER_AVS


def test_get_avs_config_returns_one_struct_behind_an_offset(dev_chain: DevChain) -> None:
    registrar = dev_chain.register_avs(AVS, 3, [4])
    data = dev_chain.node.call(registrar, bytes.fromhex("41f548f0"))

    words = [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]
    # offset of the struct, aggregator set id, offset of the array inside it, length, items
    assert words == [0x20, 3, 0x40, 1, 4]


def test_an_operator_socket_reads_back(dev_chain: DevChain) -> None:
    registrar = dev_chain.register_avs(AVS, 0, [1])
    dev_chain.set_operator_socket(registrar, OPERATOR, "executor.example:9090")

    assert dev_chain.operator_socket(registrar, OPERATOR) == "executor.example:9090"
    assert dev_chain.operator_socket(registrar, OTHER_OPERATOR) == ""


def test_members_follow_additions_and_removals(dev_chain: DevChain) -> None:
    dev_chain.add_member(AVS, 1, OPERATOR)
    dev_chain.add_member(AVS, 1, OTHER_OPERATOR)
    dev_chain.add_member(AVS, 1, OPERATOR)

    assert dev_chain.members(AVS, 1) == [OPERATOR, OTHER_OPERATOR]
    assert dev_chain.is_member(AVS, 1, OPERATOR)
    assert not dev_chain.is_member(AVS, 2, OPERATOR)
    assert not dev_chain.is_member(OTHER_AVS, 1, OPERATOR)

    dev_chain.remove_member(AVS, 1, OPERATOR)

    assert dev_chain.members(AVS, 1) == [OTHER_OPERATOR]
    assert not dev_chain.is_member(AVS, 1, OPERATOR)
    assert dev_chain.members(AVS, 2) == []


def test_a_read_pinned_to_an_older_block_sees_the_older_state(dev_chain: DevChain) -> None:
    added = dev_chain.add_member(AVS, 1, OPERATOR)
    dev_chain.node.mine(3)
    removed = dev_chain.remove_member(AVS, 1, OPERATOR)

    assert not dev_chain.is_member(AVS, 1, OPERATOR, block=added - 1)
    assert dev_chain.is_member(AVS, 1, OPERATOR, block=added)
    assert dev_chain.is_member(AVS, 1, OPERATOR, block=removed - 1)
    assert dev_chain.members(AVS, 1, block=removed - 1) == [OPERATOR]
    assert not dev_chain.is_member(AVS, 1, OPERATOR, block=removed)
    assert not dev_chain.is_member(AVS, 1, OPERATOR)


def test_each_setter_lands_in_a_block_of_its_own(dev_chain: DevChain) -> None:
    first = dev_chain.configure_operator_set(AVS, 1, 2)
    second = dev_chain.configure_operator_set(AVS, 1, 1)

    assert second == first + 1 == dev_chain.node.block_number()
    assert dev_chain.curve_type(AVS, 1, block=first) == 2
    assert dev_chain.curve_type(AVS, 1, block=second) == 1


def test_an_unconfigured_operator_set_has_curve_type_none(dev_chain: DevChain) -> None:
    dev_chain.configure_operator_set(AVS, 1, 2)

    assert dev_chain.curve_type(AVS, 1) == 2
    assert dev_chain.curve_type(AVS, 2) == 0


def test_a_bn254_key_reads_back_in_the_executors_byte_order(dev_chain: DevChain) -> None:
    signer = Bn254ResultSigner(b"\x07" * 32)
    dev_chain.set_bn254_key(AVS, 1, OPERATOR, signer.public_key_g1, signer.public_key_g2)

    assert dev_chain.bn254_key(AVS, 1, OPERATOR) == (signer.public_key_g1, signer.public_key_g2)
    assert dev_chain.bn254_key(AVS, 1, OTHER_OPERATOR) == (bytes(64), bytes(128))


def test_an_ecdsa_address_reads_back(dev_chain: DevChain) -> None:
    signer = "0x" + "5e" * 20
    dev_chain.set_ecdsa_address(AVS, 1, OPERATOR, signer)

    assert dev_chain.ecdsa_address(AVS, 1, OPERATOR) == signer
    assert dev_chain.ecdsa_address(AVS, 2, OPERATOR) == ZERO_ADDRESS


def test_a_reverted_snapshot_forgets_what_followed_it(dev_chain: DevChain) -> None:
    snapshot = dev_chain.node.snapshot()
    dev_chain.add_member(AVS, 1, OPERATOR)
    dev_chain.node.revert(snapshot)

    assert not dev_chain.is_member(AVS, 1, OPERATOR)


def test_an_address_without_code_answers_empty(dev_chain: DevChain) -> None:
    assert dev_chain.node.call("0x" + "ee" * 20, bytes.fromhex("41f548f0")) == b""


def test_an_unknown_selector_reverts_as_an_rpc_error(dev_chain: DevChain) -> None:
    with pytest.raises(RpcError, match="revert"):
        dev_chain.node.call(ALLOCATION_MANAGER, b"\xde\xad\xbe\xef")


def test_a_refusing_endpoint_refuses_then_serves_the_same_url(fresh_anvil: AnvilNode) -> None:
    url = fresh_anvil.url
    with fresh_anvil.refusing(), pytest.raises(urllib.error.URLError):
        fresh_anvil.rpc("eth_chainId", timeout=2)

    assert fresh_anvil.url == url
    assert int(fresh_anvil.rpc("eth_chainId"), 16) == ANVIL_CHAIN_ID


def test_a_paused_endpoint_does_not_answer_in_time(fresh_anvil: AnvilNode) -> None:
    with fresh_anvil.paused(), pytest.raises(TimeoutError):
        fresh_anvil.rpc("eth_chainId", timeout=0.5)

    assert int(fresh_anvil.rpc("eth_chainId"), 16) == ANVIL_CHAIN_ID
