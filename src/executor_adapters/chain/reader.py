"""`ChainReader` over an Ethereum JSON-RPC endpoint, with the caching that makes it cheap.

Why each rule holds:

- **A read at a block > 0 is cached by (block, contract, calldata)**, in a bounded LRU: state
  at a mined block never changes (a reorg deeper than the task's block is out of scope, as
  for the aggregator that chose it). Reads at `LATEST_BLOCK` are sent as "latest" and never
  cached.
- **A curve type other than NONE is cached for all later blocks**: KeyRegistrar's
  `configureOperatorSet` refuses a set whose curve is already set, so once a set has a curve it
  keeps it. Only blocks at or after the first block it was seen at are answered from it (before
  that block the set may not have been configured yet); one seen at "latest" answers "latest".
- **The domain separator is read once per verifier address**: it hashes the verifier's own
  address and version, and a verifier never changes either.
- **Identical reads in flight are coalesced** (single flight), so a burst of tasks on a cold
  block sends each distinct read once. Failures reach every waiter and are never cached.

A task on a warm block costs no eth_call; on a cold one, with the curve already known, four:
`getAVSRegistrar`, `getAvsConfig`, the aggregator's key and `isMemberOfOperatorSet`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar, cast

from executor_adapters.chain import abi
from executor_adapters.chain.cache import LruCache, Missing, SingleFlight
from executor_adapters.chain.contracts import (
    ContractAddresses,
    addresses_for,
    check_chain_id,
)
from executor_adapters.chain.jsonrpc import DEFAULT_TIMEOUT_SECONDS, JsonRpcClient
from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ChainDataError
from executor_core.ports import LATEST_BLOCK, KeyCurve, OperatorSet

T = TypeVar("T")

DEFAULT_CACHE_ENTRIES = 8192

_ReadKey = tuple[int, str, bytes]


class JsonRpcChainReader:
    """Implements `ChainReader` with `eth_call`s pinned to the asked block.

    Open one with `await JsonRpcChainReader.open(url, ...)` (it asks the endpoint its chain id
    and picks the contract addresses for it) and close it with `aclose()`, or use it as an
    async context manager.
    """

    def __init__(
        self,
        rpc: JsonRpcClient,
        contracts: ContractAddresses,
        *,
        chain_id: int,
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
    ) -> None:
        self.rpc = rpc
        self.contracts = contracts
        self.chain_id = chain_id
        self.client_version = "unknown"
        """The node's `web3_clientVersion`, read once when the reader opens."""
        self._reads: LruCache[_ReadKey, Any] = LruCache(cache_entries)
        self._curves: LruCache[OperatorSet, tuple[KeyCurve, int | None]] = LruCache(cache_entries)
        self._domain_separators: dict[Address, bytes] = {}
        self._flights: SingleFlight[_ReadKey] = SingleFlight()

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        expected_chain_id: int | None = None,
        overrides: Mapping[str, Address] | None = None,
        cache_entries: int = DEFAULT_CACHE_ENTRIES,
    ) -> Self:
        """Connect to `url` and choose the addresses by the chain id it reports.

        Raises `ChainUnavailable` when the endpoint does not answer, and `ChainConfigError`
        when it reports another chain than `expected_chain_id` or an unknown chain without
        `overrides` (field name of `ContractAddresses` → address).
        """
        rpc = JsonRpcClient(url, timeout=timeout)
        try:
            chain_id = await rpc.chain_id()
            check_chain_id(chain_id, expected_chain_id)
            contracts = addresses_for(chain_id, overrides)
            client_version = await rpc.client_version()
        except BaseException:
            await rpc.aclose()
            raise
        reader = cls(rpc, contracts, chain_id=chain_id, cache_entries=cache_entries)
        reader.client_version = client_version
        return reader

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @property
    def eth_calls(self) -> int:
        """How many eth_call requests this reader has sent (for benchmarks and tests)."""
        return self.rpc.requests["eth_call"]

    def __repr__(self) -> str:
        return f"JsonRpcChainReader({self.rpc.endpoint!r}, chain_id={self.chain_id})"

    def _contract(self, name: str) -> Address:
        return self.contracts.require(name, chain_id=self.chain_id)

    async def _read(self, to: Address, call: abi.ContractCall[T], block: int) -> T:
        key: _ReadKey = (block, to.value, call.data)
        if block != LATEST_BLOCK:
            hit = self._reads.get(key)
            if not isinstance(hit, Missing):
                return cast(T, hit)
        return await self._flights.run(key, lambda: self._fetch(key, to, call, block))

    async def _fetch(self, key: _ReadKey, to: Address, call: abi.ContractCall[T], block: int) -> T:
        returned = await self.rpc.eth_call(to.value, call.data, block=block, what=call.name)
        try:
            value = call.decode(returned)
        except ChainDataError as exc:
            at = "the latest block" if block == LATEST_BLOCK else f"block {block}"
            raise ChainDataError(f"{exc} (contract {to}, {at})") from None
        if block != LATEST_BLOCK:
            self._reads.put(key, value)
        return value

    async def avs_config(self, avs: AvsAddress, *, block: int) -> abi.AvsConfig:
        """The AVS's TaskAVSRegistrar `getAvsConfig()`, found through AllocationManager."""
        allocation_manager = self._contract("allocation_manager")
        registrar = await self._read(allocation_manager, abi.get_avs_registrar(avs), block)
        return await self._read(registrar, abi.get_avs_config(), block)

    async def aggregator_operator_set_id(self, avs: AvsAddress, *, block: int) -> int:
        return (await self.avs_config(avs, block=block)).aggregator_operator_set_id

    async def curve_type(self, operator_set: OperatorSet, *, block: int) -> KeyCurve:
        known = self._curves.get(operator_set)
        since: int | None = None
        if not isinstance(known, Missing):
            curve, since = known
            if block == LATEST_BLOCK or (since is not None and block >= since):
                return curve
        key_registrar = self._contract("key_registrar")
        curve = await self._read(
            key_registrar, abi.get_operator_set_curve_type(operator_set), block
        )
        if curve is not KeyCurve.NONE:
            if block != LATEST_BLOCK:
                since = block if since is None else min(since, block)
            self._curves.put(operator_set, (curve, since))
        return curve

    async def bn254_key(self, operator_set: OperatorSet, operator: Address, *, block: int) -> bytes:
        key_registrar = self._contract("key_registrar")
        return await self._read(key_registrar, abi.get_bn254_key(operator_set, operator), block)

    async def ecdsa_address(
        self, operator_set: OperatorSet, operator: Address, *, block: int
    ) -> Address | None:
        key_registrar = self._contract("key_registrar")
        return await self._read(key_registrar, abi.get_ecdsa_address(operator_set, operator), block)

    async def is_member(self, operator: Address, operator_set: OperatorSet, *, block: int) -> bool:
        allocation_manager = self._contract("allocation_manager")
        call = abi.is_member_of_operator_set(operator, operator_set)
        return await self._read(allocation_manager, call, block)

    async def members(self, operator_set: OperatorSet, *, block: int) -> Sequence[Address]:
        allocation_manager = self._contract("allocation_manager")
        return await self._read(allocation_manager, abi.get_members(operator_set), block)

    async def ecdsa_domain_separator(self) -> bytes:
        verifier = self._contract("ecdsa_certificate_verifier")
        known = self._domain_separators.get(verifier)
        if known is None:
            known = await self._read(verifier, abi.domain_separator(), LATEST_BLOCK)
            self._domain_separators[verifier] = known
        return known

    async def aclose(self) -> None:
        """Stop the reads still in flight and close the connection."""
        await self._flights.cancel_all()
        await self.rpc.aclose()
