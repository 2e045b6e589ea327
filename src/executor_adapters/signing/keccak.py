"""Keccak-256 as Ethereum uses it.

Ethereum's hash is the original Keccak submission, which pads differently from NIST SHA3-256
(`hashlib.sha3_256`); the two give different digests for every input, so the standard library
cannot be used here.
"""

from __future__ import annotations

from Crypto.Hash import keccak

__all__ = ["Keccak256Hasher", "keccak256"]


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte Keccak-256 digest of `data` (Ethereum's `keccak256`)."""
    digest: bytes = keccak.new(digest_bits=256, data=data).digest()
    return digest


class Keccak256Hasher:
    """Implements `executor_core.ports.Hasher` with pycryptodome's Keccak."""

    __slots__ = ()

    def keccak256(self, data: bytes) -> bytes:
        """Return the 32-byte Keccak-256 digest of `data`."""
        return keccak256(data)
