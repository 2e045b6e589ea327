"""Aggregator keys from chain, for first-generation tasks when simulated peering is off.

As the Go executor (c18d70e) finds peers: the AVS's aggregator operator set
(AllocationManager `getAVSRegistrar` → TaskAVSRegistrar `getAvsConfig`), whose curve must be
BN254, then the aggregator's membership and its KeyRegistrar G2 key, all at the latest block.
Unlike it, answers are read again after `refresh_seconds` rather than once for the process's
life, so a rotated key or a removed aggregator takes effect without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from executor_adapters.chain.cache import LruCache, Missing
from executor_core.addresses import Address, AvsAddress
from executor_core.errors import ChainDataError
from executor_core.ports import LATEST_BLOCK, ChainReader, Clock, KeyCurve, OperatorSet

log = logging.getLogger("executor_adapters.peering")

DEFAULT_REFRESH_SECONDS = 60.0
MAX_CACHED = 4096
"""Aggregator addresses come from callers: the cache is bounded so they cannot grow it."""


class ChainAggregatorKeys:
    """Implements `AggregatorKeys` from a `ChainReader`, each answer kept `refresh_seconds`.

    An AVS whose aggregator set is not BN254, or whose contracts answer nonsense
    (`ChainDataError`), has no keys: its tasks are refused as from an unknown aggregator.
    `ChainUnavailable` propagates, so the caller can tell "not an aggregator" from "cannot
    tell now".
    """

    def __init__(
        self,
        reader: ChainReader,
        *,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        clock: Clock,
    ) -> None:
        if refresh_seconds < 0:
            raise ValueError("refresh_seconds must be at least 0")
        self._reader = reader
        self._refresh = refresh_seconds
        self._clock = clock
        self._sets: LruCache[AvsAddress, tuple[float, OperatorSet | None]] = LruCache(MAX_CACHED)
        self._keys: LruCache[tuple[AvsAddress, Address], tuple[float, tuple[bytes, ...]]] = (
            LruCache(MAX_CACHED)
        )

    def _fresh(self, read_at: float) -> bool:
        return self._clock.monotonic() - read_at < self._refresh

    async def _bn254_set(self, avs: AvsAddress) -> OperatorSet | None:
        """The AVS's aggregator operator set when its curve is BN254, else None."""
        cached = self._sets.get(avs)
        if not isinstance(cached, Missing) and self._fresh(cached[0]):
            return cached[1]
        read_at = self._clock.monotonic()
        operator_set: OperatorSet | None = None
        try:
            set_id = await self._reader.aggregator_operator_set_id(avs, block=LATEST_BLOCK)
            candidate = OperatorSet(avs, set_id)
            curve = await self._reader.curve_type(candidate, block=LATEST_BLOCK)
        except ChainDataError as exc:
            log.warning(
                "no aggregator set on chain", extra={"avsAddress": avs.value, "error": str(exc)}
            )
        else:
            if curve is KeyCurve.BN254:
                operator_set = candidate
            else:
                log.warning(
                    "aggregator set is not BN254",
                    extra={"avsAddress": avs.value, "curve": curve.name},
                )
        self._sets.put(avs, (read_at, operator_set))
        return operator_set

    async def keys_for(self, avs: AvsAddress, aggregator: Address) -> Sequence[bytes]:
        cached = self._keys.get((avs, aggregator))
        if not isinstance(cached, Missing) and self._fresh(cached[0]):
            return cached[1]
        read_at = self._clock.monotonic()
        operator_set = await self._bn254_set(avs)
        keys: tuple[bytes, ...] = ()
        if operator_set is not None:
            try:
                if await self._reader.is_member(aggregator, operator_set, block=LATEST_BLOCK):
                    key = await self._reader.bn254_key(operator_set, aggregator, block=LATEST_BLOCK)
                    keys = (key,) if key else ()
            except ChainDataError as exc:
                log.warning(
                    "aggregator key unreadable",
                    extra={"avsAddress": avs.value, "error": str(exc)},
                )
        self._keys.put((avs, aggregator), (read_at, keys))
        return keys
