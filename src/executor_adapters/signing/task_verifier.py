"""Checks first-generation aggregator signatures: BN254 over the raw payload, RFC 9380 hash."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from executor_adapters.signing import bn254


def _any_key_verifies(public_keys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
    return any(bn254.verify(key, message, signature) for key in public_keys)


class Bn254TaskSignatureVerifier:
    """Implements `TaskSignatureVerifier`; the pairing runs in a worker thread, off the loop."""

    async def verify(self, public_keys: Sequence[bytes], message: bytes, signature: bytes) -> bool:
        if not public_keys or not signature:
            return False
        return await asyncio.to_thread(_any_key_verifies, public_keys, message, signature)
