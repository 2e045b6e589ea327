"""A `ResultSigner` for tests: instant, deterministic, inspectable, and able to fail on demand."""

from __future__ import annotations

import asyncio
import hashlib

__all__ = ["FakeResultSigner"]

_SIGNATURE_BYTES = 64


class FakeResultSigner:
    """Signs with a keyed BLAKE2b instead of a curve, so tests need no keys and run fast.

    The signature is 64 bytes like a BN254 one, depends only on `key_tag` and the output, and
    differs between key tags, so a test can tell which "operator" signed. Every output that was
    signed is appended to `signed`; set `fail_with` to make the next calls raise that exception
    (nothing is recorded then).

    Example::

        signer = FakeResultSigner()
        signature = await signer.sign_result(b"out")
        assert signer.signed == [b"out"]
        assert signature == signer.expected_signature(b"out")
    """

    def __init__(
        self, key_tag: bytes = b"fake-result-signer", *, fail_with: Exception | None = None
    ) -> None:
        self.key_tag = key_tag
        self.fail_with = fail_with
        self.signed: list[bytes] = []

    def expected_signature(self, output: bytes) -> bytes:
        """The signature `sign_result(output)` returns, for assertions in tests."""
        # BLAKE2b keys are at most 64 bytes; hash longer tags down rather than refuse them.
        key = self.key_tag if len(self.key_tag) <= 64 else hashlib.blake2b(self.key_tag).digest()
        return hashlib.blake2b(output, digest_size=_SIGNATURE_BYTES, key=key).digest()

    async def sign_result(self, output: bytes) -> bytes:
        """Return `expected_signature(output)`, or raise `fail_with` when it is set."""
        # Yield once, as the real signer does, so that tests exercise interleaving.
        await asyncio.sleep(0)
        if self.fail_with is not None:
            raise self.fail_with
        self.signed.append(bytes(output))
        return self.expected_signature(output)

    def __repr__(self) -> str:
        return f"FakeResultSigner(key_tag={self.key_tag!r}, signed={len(self.signed)})"
