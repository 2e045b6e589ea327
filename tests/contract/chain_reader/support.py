"""The chain as the contract suite changes it, the same way for both backends."""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Protocol

from executor_adapters.chain import JsonRpcChainReader, JsonRpcClient, addresses_for
from executor_adapters.memory.chain import InMemoryChain
from executor_adapters.signing.keccak import keccak256
from executor_core.addresses import Address, AvsAddress
from executor_core.ports import ChainReader, KeyCurve, OperatorSet
from tests.chain_support import ANVIL_CHAIN_ID, ECDSA_CERTIFICATE_VERIFIER, DevChain

G1_KEY = bytes(range(64))
"""DevChain stores a G1 key beside the G2 one; the port returns only the G2 key."""


def expected_domain_separator() -> bytes:
    """What the ECDSACertificateVerifier mock computes: EIP-712 domain of ("EigenLayer", "1",
    its own address), without a chain id."""
    typehash = keccak256(b"EIP712Domain(string name,string version,address verifyingContract)")
    verifier = bytes.fromhex(ECDSA_CERTIFICATE_VERIFIER[2:]).rjust(32, b"\0")
    return keccak256(typehash + keccak256(b"EigenLayer") + keccak256(b"1") + verifier)


def refused_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class World(Protocol):
    """Changes the chain; each setter returns the block from which its change holds."""

    reader: ChainReader

    def register_avs(
        self, avs: AvsAddress, aggregator_set_id: int, executor_set_ids: Sequence[int] = ()
    ) -> int: ...

    def configure(self, operator_set: OperatorSet, curve: KeyCurve) -> int: ...

    def set_bn254_key(self, operator_set: OperatorSet, operator: Address, g2: bytes) -> int: ...

    def set_ecdsa_address(
        self, operator_set: OperatorSet, operator: Address, signer: Address
    ) -> int: ...

    def add_member(self, operator_set: OperatorSet, operator: Address) -> int: ...

    def remove_member(self, operator_set: OperatorSet, operator: Address) -> int: ...

    def mine(self) -> int:
        """A block in which nothing changes; returns its number."""
        ...

    def unreachable_reader(self) -> ChainReader:
        """A reader of this kind whose endpoint is down."""
        ...


class MemoryWorld:
    def __init__(self, chain: InMemoryChain) -> None:
        self.chain = chain
        self.reader: ChainReader = chain

    def register_avs(
        self, avs: AvsAddress, aggregator_set_id: int, executor_set_ids: Sequence[int] = ()
    ) -> int:
        return self.chain.set_avs_config(avs, aggregator_set_id, executor_set_ids)

    def configure(self, operator_set: OperatorSet, curve: KeyCurve) -> int:
        return self.chain.set_curve(operator_set, curve)

    def set_bn254_key(self, operator_set: OperatorSet, operator: Address, g2: bytes) -> int:
        return self.chain.set_bn254_key(operator_set, operator, g2)

    def set_ecdsa_address(
        self, operator_set: OperatorSet, operator: Address, signer: Address
    ) -> int:
        return self.chain.set_ecdsa_address(operator_set, operator, signer)

    def add_member(self, operator_set: OperatorSet, operator: Address) -> int:
        return self.chain.add_member(operator_set, operator)

    def remove_member(self, operator_set: OperatorSet, operator: Address) -> int:
        return self.chain.remove_member(operator_set, operator)

    def mine(self) -> int:
        self.chain.block_number += 1
        return self.chain.block_number

    def unreachable_reader(self) -> ChainReader:
        down = InMemoryChain()
        down.unavailable = True
        return down


class AnvilWorld:
    def __init__(self, dev_chain: DevChain, reader: JsonRpcChainReader) -> None:
        self.dev_chain = dev_chain
        self.reader: ChainReader = reader

    def register_avs(
        self, avs: AvsAddress, aggregator_set_id: int, executor_set_ids: Sequence[int] = ()
    ) -> int:
        self.dev_chain.register_avs(avs, aggregator_set_id, executor_set_ids)
        return self.dev_chain.node.block_number()

    def configure(self, operator_set: OperatorSet, curve: KeyCurve) -> int:
        return self.dev_chain.configure_operator_set(operator_set.avs, operator_set.id, curve)

    def set_bn254_key(self, operator_set: OperatorSet, operator: Address, g2: bytes) -> int:
        return self.dev_chain.set_bn254_key(operator_set.avs, operator_set.id, operator, G1_KEY, g2)

    def set_ecdsa_address(
        self, operator_set: OperatorSet, operator: Address, signer: Address
    ) -> int:
        return self.dev_chain.set_ecdsa_address(operator_set.avs, operator_set.id, operator, signer)

    def add_member(self, operator_set: OperatorSet, operator: Address) -> int:
        return self.dev_chain.add_member(operator_set.avs, operator_set.id, operator)

    def remove_member(self, operator_set: OperatorSet, operator: Address) -> int:
        return self.dev_chain.remove_member(operator_set.avs, operator_set.id, operator)

    def mine(self) -> int:
        return self.dev_chain.node.mine()

    def unreachable_reader(self) -> ChainReader:
        rpc = JsonRpcClient(f"http://127.0.0.1:{refused_port()}", timeout=5.0)
        return JsonRpcChainReader(rpc, addresses_for(ANVIL_CHAIN_ID), chain_id=ANVIL_CHAIN_ID)
