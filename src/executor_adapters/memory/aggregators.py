"""Aggregator keys and signatures without pairings, for tests that are not about cryptography."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

from executor_core.addresses import Address, AvsAddress


def fake_task_signature(public_key: bytes, message: bytes) -> bytes:
    """The signature FakeTaskSignatureVerifier accepts for `message` under `public_key`."""
    return hashlib.blake2b(message, key=public_key[:64], digest_size=64).digest()


class FakeTaskSignatureVerifier:
    """Accepts exactly the signatures made by `fake_task_signature`; records every check."""

    def __init__(self) -> None:
        self.checked: list[tuple[tuple[bytes, ...], bytes, bytes]] = []

    async def verify(self, public_keys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
        self.checked.append((tuple(public_keys), message, signature))
        return any(
            hmac.compare_digest(fake_task_signature(key, message), signature) for key in public_keys
        )


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
