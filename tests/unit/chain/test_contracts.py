"""Contract addresses by chain id, overrides, and the chain-id check at start."""

from __future__ import annotations

import pytest

from executor_adapters.chain.contracts import (
    MAINNET,
    SEPOLIA,
    ChainConfigError,
    ContractAddresses,
    addresses_for,
    check_chain_id,
)
from executor_core.addresses import Address
from executor_core.errors import ChainDataError

MINE = Address.parse("0x" + "ee" * 20)


def test_mainnet_and_sepolia_have_every_contract() -> None:
    for chain_id, table in ((1, MAINNET), (11155111, SEPOLIA)):
        addresses = addresses_for(chain_id)
        assert addresses == table
        assert None not in (
            addresses.allocation_manager,
            addresses.key_registrar,
            addresses.task_mailbox,
            addresses.bn254_certificate_verifier,
            addresses.ecdsa_certificate_verifier,
        )
    assert MAINNET.allocation_manager == Address.parse("0x948a420b8cc1d6bfd0b6087c2e7c344a2cd0bc39")
    assert SEPOLIA.key_registrar == Address.parse("0xa4db30d08d8bbca00d40600bee9f029984db162a")


def test_local_chains_borrow_sepolia_and_base_sepolia() -> None:
    assert addresses_for(31337) == SEPOLIA
    assert addresses_for(31338) == addresses_for(84532)


@pytest.mark.parametrize(("chain_id", "l1"), [(8453, MAINNET), (84532, SEPOLIA)])
def test_base_chains_have_only_the_mailbox_and_the_verifiers(
    chain_id: int, l1: ContractAddresses
) -> None:
    addresses = addresses_for(chain_id)
    assert addresses.allocation_manager is None
    assert addresses.key_registrar is None
    assert addresses.task_mailbox == l1.task_mailbox
    assert addresses.bn254_certificate_verifier == l1.bn254_certificate_verifier
    assert addresses.ecdsa_certificate_verifier == l1.ecdsa_certificate_verifier
    with pytest.raises(ChainDataError, match=f"chain {chain_id} has no key_registrar"):
        addresses.require("key_registrar", chain_id=chain_id)


def test_an_override_replaces_one_address_and_keeps_the_others() -> None:
    addresses = addresses_for(11155111, {"key_registrar": MINE})
    assert addresses.key_registrar == MINE
    assert addresses.allocation_manager == SEPOLIA.allocation_manager


def test_an_unknown_chain_without_overrides_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ChainConfigError, match=r"chain 999.*known: 1, 8453"):
        addresses_for(999)


def test_an_unknown_chain_with_overrides_uses_only_them() -> None:
    addresses = addresses_for(999, {"allocation_manager": MINE})
    assert addresses == ContractAddresses(allocation_manager=MINE)


def test_an_override_of_an_unknown_contract_is_refused() -> None:
    with pytest.raises(ChainConfigError, match="unknown contract allocationManager"):
        addresses_for(1, {"allocationManager": MINE})


def test_a_configured_chain_id_must_match_the_reported_one() -> None:
    check_chain_id(31337, None)
    check_chain_id(31337, 31337)
    with pytest.raises(ChainConfigError, match=r"configured chainId is 1 .* reports chain 31337"):
        check_chain_id(31337, 1)
