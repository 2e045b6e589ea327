"""Aggregator keys and signatures without pairings, for tests that are not about cryptography."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Mapping, Sequence

from executor_core.addresses import Address, AvsAddress
from executor_core.ports import SignedMessage


def fake_task_signature(public_key: bytes, message: bytes) -> bytes:
    """The signature FakeTaskSignatureVerifier accepts for `message` under `public_key`."""
    return hashlib.blake2b(message, key=public_key[:64], digest_size=64).digest()


class FakeTaskSignatureVerifier:
    """Accepts exactly the signatures made by `fake_task_signature`; records every check.

    `checked` lists every (keys, message, signature) in the order checked, `batches` the size of
    every batch. Set `gate` to an unset event to hold every batch until it is set.
    """

    def __init__(self) -> None:
        self.checked: list[tuple[tuple[bytes, ...], bytes, bytes]] = []
        self.batches: list[int] = []
        self.gate: asyncio.Event | None = None

    async def verify_batch(
        self, public_keys: Sequence[bytes], items: Sequence[SignedMessage]
    ) -> list[bool]:
        self.batches.append(len(items))
        if self.gate is not None:
            await self.gate.wait()
        else:
            await asyncio.sleep(0)  # a real verifier yields to the loop while it computes
        keys = tuple(public_keys)
        verdicts = []
        for item in items:
            self.checked.append((keys, item.message, item.signature))
            verdicts.append(
                any(
                    hmac.compare_digest(fake_task_signature(key, item.message), item.signature)
                    for key in keys
                )
            )
        return verdicts


class InMemoryAggregatorKeys:
    """Aggregator keys per AVS, set by the test; AVSs not listed fall back to `default`."""

    def __init__(
        self,
        keys: Mapping[AvsAddress, Mapping[Address, Sequence[bytes]]] | None = None,
        *,
        default: Mapping[Address, Sequence[bytes]] | None = None,
    ) -> None:
        self._keys = {avs: dict(by_aggregator) for avs, by_aggregator in (keys or {}).items()}
        self._default = dict(default or {})

    async def keys_for(self, avs: AvsAddress, aggregator: Address) -> Sequence[bytes]:
        return tuple(self._keys.get(avs, self._default).get(aggregator, ()))
