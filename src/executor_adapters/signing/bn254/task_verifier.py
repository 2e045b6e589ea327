"""Checks first-generation aggregator signatures: BN254 over the raw payload, RFC 9380 hash."""

from __future__ import annotations

from collections.abc import Sequence

from executor_adapters.signing.bn254 import curve as bn254
from executor_core.ports import SignedMessage


class Bn254TaskSignatureVerifier:
    """Implements `TaskSignatureVerifier`: one multi-pairing per batch, off the event loop."""

    async def verify_batch(
        self, public_keys: Sequence[bytes], items: Sequence[SignedMessage]
    ) -> list[bool]:
        """Each item under the first key, then what failed under the next, and so on."""
        verdicts = [False] * len(items)
        pending = [i for i, item in enumerate(items) if item.signature]
        for key in public_keys:
            if not pending:
                break
            results = await bn254.verify_batch_async(
                key, [items[i].message for i in pending], [items[i].signature for i in pending]
            )
            for i, ok in zip(pending, results, strict=True):
                verdicts[i] = ok
            pending = [i for i, ok in zip(pending, results, strict=True) if not ok]
        return verdicts
