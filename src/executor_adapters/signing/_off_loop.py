"""Result signing, shared by the signers: keccak256(output), off the loop where it is slow."""

from __future__ import annotations

from collections.abc import Callable

from executor_adapters.signing.crypto_pool import run_in_crypto_pool
from executor_adapters.signing.keccak import keccak256
from executor_core.errors import SigningError


async def sign_output(
    sign_digest: Callable[[bytes], bytes], output: bytes, *, scheme: str, off_loop: bool = True
) -> bytes:
    """Sign `keccak256(output)`; any failure becomes a `SigningError`.

    `off_loop` runs it on a crypto thread: right for arithmetic that takes a while. Code that
    takes about 0.1 ms in native code is cheaper on the loop than the thread switches.
    """
    try:
        digest = keccak256(output)
        if off_loop:
            return await run_in_crypto_pool(sign_digest, digest)
        return sign_digest(digest)
    except Exception as exc:
        raise SigningError(f"{scheme} result signing failed: {exc}") from exc
