"""Result signing on a crypto thread, shared by the signers whose curve math takes a while."""

from __future__ import annotations

from collections.abc import Callable

from executor_adapters.signing.crypto_pool import run_in_crypto_pool
from executor_adapters.signing.keccak import keccak256
from executor_core.errors import SigningError


async def sign_output_in_thread(
    sign_digest: Callable[[bytes], bytes], output: bytes, *, scheme: str
) -> bytes:
    """Sign `keccak256(output)` off the event loop; any failure becomes a `SigningError`."""
    try:
        return await run_in_crypto_pool(sign_digest, keccak256(output))
    except Exception as exc:
        raise SigningError(f"{scheme} result signing failed: {exc}") from exc
