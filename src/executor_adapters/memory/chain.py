"""The chain as a test sets it: `ChainReader` over values that hold from a block on.

Every setter takes `from_block`: the value holds at that block and after, until a later set.
Without it the change lands in the next block, as a transaction would, and the setter returns
that block, like tests/chain_support.py's DevChain on anvil. A read at block b sees the last
value set at a block ≤ b; a read at `LATEST_BLOCK` sees every set; a read at a block past the
newest one is refused, as a node refuses an unknown block.

What unset state reads as is what EigenLayer's contracts answer: no curve, no key, no member,
and an AVS without a registrar config is a contract call that returns nothing
(`ChainDataError`).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
from collections.abc import Hashable, Sequence
from typing import Generic, TypeVar

from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ChainDataError, ChainUnavailable
from executor_core.ports import LATEST_BLOCK, KeyCurve, OperatorSet

V = TypeVar("V")

_G2_KEY_SIZE = 128


class _History(Generic[V]):
    """Values of one piece of state, each from a block on, in block order."""

    def __init__(self) -> None:
        self._blocks: list[int] = []
        self._values: list[V] = []

    def set(self, block: int, value: V) -> None:
        at = bisect.bisect_right(self._blocks, block)
        self._blocks.insert(at, block)
        self._values.insert(at, value)

    def at(self, block: int, default: V) -> V:
        if block == LATEST_BLOCK:
            return self._values[-1] if self._values else default
        at = bisect.bisect_right(self._blocks, block)
        return self._values[at - 1] if at else default


class InMemoryChain:
    """Implements `ChainReader` from what the test set; counts calls per method in `calls`.

    Set `unavailable = True` to make every call raise `ChainUnavailable`, as an endpoint that
    is down does.
    """

    def __init__(self, *, domain_separator: bytes | None = None) -> None:
        self.block_number = 0
        """The newest block a setter used."""
        self.unavailable = False
        self.calls: collections.Counter[str] = collections.Counter()
        self._domain_separator = domain_separator
        self._state: dict[Hashable, _History[object]] = {}

    @property
    def total_calls(self) -> int:
        """Every read asked of this chain, the refused ones included."""
        return sum(self.calls.values())

    # setters

    def _block(self, from_block: int | None) -> int:
        if from_block is None:
            from_block = self.block_number + 1
        if from_block < 0:
            raise ValueError(f"a block number is at least 0, got {from_block}")
        self.block_number = max(self.block_number, from_block)
        return from_block

    def _set(self, key: Hashable, value: object, from_block: int | None) -> int:
        block = self._block(from_block)
        self._state.setdefault(key, _History()).set(block, value)
        return block

    def set_avs_config(
        self,
        avs: AvsAddress,
        aggregator_operator_set_id: int,
        executor_operator_set_ids: Sequence[int] = (),
        *,
        from_block: int | None = None,
    ) -> int:
        """The AVS's registrar answers `getAvsConfig()` with these ids; returns the block."""
        value = (aggregator_operator_set_id, tuple(executor_operator_set_ids))
        return self._set(("config", avs), value, from_block)

    def set_curve(
        self, operator_set: OperatorSet, curve: KeyCurve, *, from_block: int | None = None
    ) -> int:
        """KeyRegistrar `configureOperatorSet`; returns the block."""
        return self._set(("curve", operator_set), KeyCurve(curve), from_block)

    def set_bn254_key(
        self,
        operator_set: OperatorSet,
        operator: Address,
        key: bytes,
        *,
        from_block: int | None = None,
    ) -> int:
        """Register the operator's 128-byte G2 key (empty: deregister); returns the block."""
        if key and len(key) != _G2_KEY_SIZE:
            raise ValueError(f"a G2 key is {_G2_KEY_SIZE} bytes, got {len(key)}")
        if not any(key):
            key = b""
        return self._set(("bn254", operator_set, operator), bytes(key), from_block)

    def set_ecdsa_address(
        self,
        operator_set: OperatorSet,
        operator: Address,
        signer: Address | None,
        *,
        from_block: int | None = None,
    ) -> int:
        """Register the operator's ECDSA signing address (None: deregister); returns the block."""
        return self._set(("ecdsa", operator_set, operator), signer, from_block)

    def add_member(
        self, operator_set: OperatorSet, operator: Address, *, from_block: int | None = None
    ) -> int:
        """The operator joins the set (appended, as EnumerableSet does); returns the block."""
        block = self._block(from_block)
        members = self._members_at(operator_set, block)
        if operator not in members:
            members = (*members, operator)
        return self._set(("members", operator_set), members, block)

    def remove_member(
        self, operator_set: OperatorSet, operator: Address, *, from_block: int | None = None
    ) -> int:
        """The operator leaves the set (the last member takes its place, as EnumerableSet
        does); returns the block."""
        block = self._block(from_block)
        members = list(self._members_at(operator_set, block))
        if operator in members:
            at = members.index(operator)
            last = members.pop()
            if at < len(members):
                members[at] = last
        return self._set(("members", operator_set), tuple(members), block)

    def set_domain_separator(self, value: bytes) -> None:
        """What `ecdsa_domain_separator()` answers (it never changes on a chain)."""
        if len(value) != 32:
            raise ValueError("a domain separator is 32 bytes")
        self._domain_separator = bytes(value)

    # reads

    def _members_at(self, operator_set: OperatorSet, block: int) -> tuple[Address, ...]:
        history = self._state.get(("members", operator_set))
        members = () if history is None else history.at(block, ())
        assert isinstance(members, tuple)
        return members

    async def _read(self, method: str, key: Hashable, block: int, default: object) -> object:
        self.calls[method] += 1
        await asyncio.sleep(0)  # a real reader yields to the loop
        if self.unavailable:
            raise ChainUnavailable("in-memory chain: unavailable (set by the test)")
        if block < 0:
            raise ValueError(f"a block number is at least 0, got {block}")
        if block > self.block_number:
            raise ChainDataError(
                f"{method} at block {block}: no such block (newest {self.block_number})"
            )
        history = self._state.get(key)
        return default if history is None else history.at(block, default)

    async def aggregator_operator_set_id(self, avs: AvsAddress, *, block: int) -> int:
        config = await self._read("aggregator_operator_set_id", ("config", avs), block, None)
        if config is None:
            raise ChainDataError(
                f"TaskAVSRegistrar.getAvsConfig returned no data: AVS {avs} has no registrar"
            )
        assert isinstance(config, tuple)
        aggregator: int = config[0]
        return aggregator

    async def curve_type(self, operator_set: OperatorSet, *, block: int) -> KeyCurve:
        curve = await self._read("curve_type", ("curve", operator_set), block, KeyCurve.NONE)
        assert isinstance(curve, KeyCurve)
        return curve

    async def bn254_key(self, operator_set: OperatorSet, operator: Address, *, block: int) -> bytes:
        key = await self._read("bn254_key", ("bn254", operator_set, operator), block, b"")
        assert isinstance(key, bytes)
        return key

    async def ecdsa_address(
        self, operator_set: OperatorSet, operator: Address, *, block: int
    ) -> Address | None:
        signer = await self._read("ecdsa_address", ("ecdsa", operator_set, operator), block, None)
        assert signer is None or isinstance(signer, Address)
        return signer

    async def is_member(self, operator: Address, operator_set: OperatorSet, *, block: int) -> bool:
        members = await self._read("is_member", ("members", operator_set), block, ())
        assert isinstance(members, tuple)
        return operator in members

    async def members(self, operator_set: OperatorSet, *, block: int) -> Sequence[Address]:
        members = await self._read("members", ("members", operator_set), block, ())
        assert isinstance(members, tuple)
        return members

    async def ecdsa_domain_separator(self) -> bytes:
        await self._read("ecdsa_domain_separator", "domain", LATEST_BLOCK, None)
        if self._domain_separator is None:
            raise ChainDataError("ECDSACertificateVerifier.domainSeparator returned no data")
        return self._domain_separator

    async def aclose(self) -> None:
        """Nothing to release; here so tests can close either reader the same way."""
