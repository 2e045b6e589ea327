"""Aggregator peers from the config (`simulation.simulatePeering`) and an optional peers file.

As in the first-generation Go executor, simulated peers apply to every AVS. The peers file is
read again whenever it changes, so an operator can rotate an aggregator's key without a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import attrs
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from executor_core.addresses import Address, AvsAddress

log = logging.getLogger("executor_adapters.peering")

G2_KEY_SIZE = 128
RECHECK_SECONDS = 1.0
"""How often the peers file is looked at for changes; tasks in between use what was read."""


@attrs.frozen
class AggregatorPeer:
    """One operator-set key of an aggregator."""

    operator_address: Address
    public_key: bytes = attrs.field(repr=False)
    operator_set_id: int = 0


class PeersFileError(ValueError):
    """The peers file cannot be read or has a bad entry."""


def parse_peers(text: str, *, source: str) -> list[AggregatorPeer]:
    """Parse a YAML or JSON list of `{operatorAddress, publicKey, operatorSetId}` entries."""
    try:
        data = YAML(typ="safe").load(text)
    except YAMLError as exc:
        raise PeersFileError(f"{source}: not YAML or JSON: {exc}") from None
    if isinstance(data, dict) and "aggregatorPeers" in data:
        data = data["aggregatorPeers"]
    if not isinstance(data, list):
        raise PeersFileError(f"{source}: must be a list of aggregator peers")
    peers = []
    for index, entry in enumerate(data):
        where = f"{source}[{index}]"
        if not isinstance(entry, dict):
            raise PeersFileError(f"{where}: must be a mapping")
        try:
            address = Address.parse(str(entry.get("operatorAddress", "")))
        except ValueError as exc:
            raise PeersFileError(f"{where}.operatorAddress: {exc}") from None
        key_text = str(entry.get("publicKey", "")).removeprefix("0x")
        try:
            key = bytes.fromhex(key_text)
        except ValueError:
            key = b""
        if len(key) != G2_KEY_SIZE:
            raise PeersFileError(f"{where}.publicKey: must be 256 hex digits (a G2 point)")
        set_id = entry.get("operatorSetId", 0)
        if not isinstance(set_id, int) or set_id < 0:
            raise PeersFileError(f"{where}.operatorSetId: must be an integer of at least 0")
        peers.append(AggregatorPeer(address, key, set_id))
    return peers


class SimulatedAggregatorKeys:
    """Implements `AggregatorKeys` from fixed peers plus a peers file that may change."""

    def __init__(self, peers: Iterable[AggregatorPeer], *, peers_file: Path | None = None) -> None:
        self._fixed = tuple(peers)
        self._file = peers_file
        self._file_stamp: tuple[float, int] | None = None
        self._file_peers: tuple[AggregatorPeer, ...] = ()
        self._checked_at = 0.0
        if peers_file is not None:
            self._reload()

    def _reload(self) -> None:
        assert self._file is not None
        stat = self._file.stat()
        stamp = (stat.st_mtime, stat.st_size)
        if stamp == self._file_stamp:
            return
        text = self._file.read_text(encoding="utf-8")
        self._file_peers = tuple(parse_peers(text, source=str(self._file)))
        self._file_stamp = stamp
        log.info(
            "aggregator peers loaded",
            extra={"file": str(self._file), "peers": len(self._file_peers)},
        )

    async def _current_file_peers(self) -> tuple[AggregatorPeer, ...]:
        if self._file is None:
            return ()
        now = time.monotonic()
        if now - self._checked_at < RECHECK_SECONDS:
            return self._file_peers
        self._checked_at = now
        try:
            await asyncio.to_thread(self._reload)
        except (OSError, PeersFileError) as exc:
            log.error("peers file unreadable; keeping the last good one", extra={"error": str(exc)})
        return self._file_peers

    async def keys_for(self, avs: AvsAddress, aggregator: Address) -> Sequence[bytes]:
        peers = self._fixed + await self._current_file_peers()
        return tuple(p.public_key for p in peers if p.operator_address == aggregator)


def peers_file_text(peers: Iterable[AggregatorPeer]) -> str:
    """Write peers in the file format (JSON), e.g. for tooling and tests."""
    return json.dumps(
        [
            {
                "operatorAddress": p.operator_address.value,
                "publicKey": p.public_key.hex(),
                "operatorSetId": p.operator_set_id,
            }
            for p in peers
        ],
        indent=2,
    )
