"""EigenLayer's contract addresses per chain, chosen by the chain id the endpoint reports.

Local chains borrow a public chain's table, as the Go executor does: 31337 (anvil's default)
uses Sepolia's addresses, 31338 Base Sepolia's, so contracts deployed at those addresses on a
local node (or a fork) are found without configuration. Base and Base Sepolia have only the
TaskMailbox and the two certificate verifiers; the rest must come from overrides there.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from executor_core.addresses import Address
from executor_core.errors import ChainDataError


class ChainConfigError(ValueError):
    """The chain cannot be used as configured: unknown chain id, wrong chain, bad override."""


@attrs.frozen
class ContractAddresses:
    """Where each contract lives on one chain; None where the chain has no such contract."""

    allocation_manager: Address | None = None
    key_registrar: Address | None = None
    task_mailbox: Address | None = None
    bn254_certificate_verifier: Address | None = None
    ecdsa_certificate_verifier: Address | None = None

    def require(self, name: str, *, chain_id: int) -> Address:
        """The address of contract `name` (a field name); `ChainDataError` if it has none."""
        address: Address | None = getattr(self, name)
        if address is None:
            raise ChainDataError(
                f"chain {chain_id} has no {name} address; set it in the configuration"
            )
        return address


CONTRACT_NAMES = tuple(field.name for field in attrs.fields(ContractAddresses))


def _table(**addresses: str) -> ContractAddresses:
    return ContractAddresses(**{name: Address(value) for name, value in addresses.items()})


MAINNET = _table(
    allocation_manager="0x948a420b8CC1d6BFd0B6087C2E7c344a2CD0bc39",
    key_registrar="0x54f4bC6bDEbe479173a2bbDc31dD7178408A57A4",
    task_mailbox="0x132b466d9d5723531F68797519DfED701aC2C749",
    bn254_certificate_verifier="0x3F55654b2b2b86bB11bE2f72657f9C33bf88120A",
    ecdsa_certificate_verifier="0xd0930ee96D07de4F9d493c259232222e46B6EC25",
)
SEPOLIA = _table(
    allocation_manager="0x42583067658071247ec8ce0a516a58f682002d07",
    key_registrar="0xa4db30d08d8bbca00d40600bee9f029984db162a",
    task_mailbox="0xb99cc53e8db7018f557606c2a5b066527bf96b26",
    bn254_certificate_verifier="0xff58a373c18268f483c1f5ca03cf885c0c43373a",
    ecdsa_certificate_verifier="0xb3cd1a457dea9a9a6f6406c6419b1c326670a96f",
)
BASE = attrs.evolve(MAINNET, allocation_manager=None, key_registrar=None)
BASE_SEPOLIA = attrs.evolve(SEPOLIA, allocation_manager=None, key_registrar=None)

KNOWN_CHAINS: Mapping[int, ContractAddresses] = {
    1: MAINNET,
    11155111: SEPOLIA,
    8453: BASE,
    84532: BASE_SEPOLIA,
    31337: SEPOLIA,
    31338: BASE_SEPOLIA,
}


def addresses_for(
    chain_id: int, overrides: Mapping[str, Address] | None = None
) -> ContractAddresses:
    """The chain's table with `overrides` (field name → address) applied.

    A chain that is not in the table can still be used when the overrides name its contracts.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(CONTRACT_NAMES))
    if unknown:
        raise ChainConfigError(
            f"unknown contract {', '.join(unknown)}; known: {', '.join(CONTRACT_NAMES)}"
        )
    known = KNOWN_CHAINS.get(chain_id)
    if known is None and not overrides:
        raise ChainConfigError(
            f"no contract addresses are known for chain {chain_id} "
            f"(known: {', '.join(str(c) for c in sorted(KNOWN_CHAINS))}); "
            "give them in the configuration"
        )
    return attrs.evolve(known or ContractAddresses(), **overrides)


def check_chain_id(reported: int, expected: int | None) -> None:
    """Refuse an endpoint on another chain than the configured one (when one is configured)."""
    if expected is not None and expected != reported:
        raise ChainConfigError(
            f"the configured chainId is {expected} but the endpoint reports chain {reported}"
        )
