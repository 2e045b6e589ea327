"""Byte-level BN254 signing and verification on the fast arithmetic.

Same inputs, outputs and errors as the py-ecc reference functions in
`executor_adapters.signing.bn254` (signing.md §1): secret keys are non-negative integers
(reduced mod r), G1 points are 64 bytes `X ‖ Y`, G2 points 128 bytes `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`,
infinity is all zeros. Verification computes `e(-sig, G2)·e(H(m), pk) == 1` with one multi-Miller
loop over precomputed lines: the generator's are built once, a public key's are built on first
use and kept in an LRU cache keyed by the key bytes, together with its subgroup check.
"""

from __future__ import annotations

from functools import lru_cache

from executor_adapters.signing.bn254.fast.field import P, R, mpz
from executor_adapters.signing.bn254.fast.g1 import (
    G1Affine,
    g1_is_on_curve,
    g1_mul,
    g1_neg,
    generator_mul,
)
from executor_adapters.signing.bn254.fast.g2 import (
    G2_GENERATOR,
    G2Affine,
    g2_generator_mul,
    g2_in_subgroup,
    g2_is_on_curve,
)
from executor_adapters.signing.bn254.fast.hashing import (
    DEFAULT_DST,
    rfc9380_hash_to_g1,
    solidity_hash_to_g1,
)
from executor_adapters.signing.bn254.fast.pairing import (
    PreparedG2,
    pairing_product_is_one,
    prepare_g2,
)

__all__ = [
    "clear_public_key_cache",
    "g1_decode",
    "g1_encode",
    "g2_decode",
    "g2_encode",
    "prepared_public_key",
    "public_key_g1",
    "public_key_g2",
    "sign",
    "sign_solidity",
    "verify",
    "verify_solidity",
]

_WORD = 32
_G1_BYTES = 64
_G2_BYTES = 128
_PUBLIC_KEY_CACHE = 256


def _scalar(sk: int) -> int:
    if sk < 0:
        raise ValueError("a secret key must not be negative")
    return int(sk) % int(R)


def _words(data: bytes, count: int) -> list[int]:
    values = [mpz(int.from_bytes(data[i * _WORD : (i + 1) * _WORD], "big")) for i in range(count)]
    if any(v >= P for v in values):
        raise ValueError("a coordinate is not below the field modulus")
    return values


def g1_encode(point: G1Affine | None) -> bytes:
    """64 bytes `X ‖ Y`, all zeros for infinity."""
    if point is None:
        return bytes(_G1_BYTES)
    return int(point[0]).to_bytes(_WORD, "big") + int(point[1]).to_bytes(_WORD, "big")


def g1_decode(data: bytes) -> G1Affine | None:
    """Decode 64 bytes with range and curve checks (the subgroup check, cofactor 1)."""
    if len(data) != _G1_BYTES:
        raise ValueError(f"a G1 point is {_G1_BYTES} bytes, got {len(data)}")
    if not any(data):
        return None
    x, y = _words(data, 2)
    if not g1_is_on_curve(x, y):
        raise ValueError("the G1 point is not on the curve")
    return x, y


def g2_encode(point: G2Affine | None) -> bytes:
    """128 bytes `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`, all zeros for infinity."""
    if point is None:
        return bytes(_G2_BYTES)
    (x0, x1), (y0, y1) = point
    return b"".join(int(w).to_bytes(_WORD, "big") for w in (x1, x0, y1, y0))


def g2_decode(data: bytes) -> G2Affine | None:
    """Decode 128 bytes with range, twist-curve and subgroup (r·Q = O) checks."""
    if len(data) != _G2_BYTES:
        raise ValueError(f"a G2 point is {_G2_BYTES} bytes, got {len(data)}")
    if not any(data):
        return None
    x1, x0, y1, y0 = _words(data, 4)
    point = ((x0, x1), (y0, y1))
    if not g2_is_on_curve(*point):
        raise ValueError("the G2 point is not on the twist curve")
    if not g2_in_subgroup(point):
        raise ValueError("the G2 point is not in the prime-order subgroup")
    return point


@lru_cache(maxsize=_PUBLIC_KEY_CACHE)
def _prepare_key(pk_g2: bytes) -> PreparedG2 | None:
    try:
        point = g2_decode(pk_g2)
    except ValueError:
        return None
    return None if point is None else prepare_g2(point)


def prepared_public_key(pk_g2: bytes) -> PreparedG2 | None:
    """Miller-loop lines of a G2 public key, or None if the key is malformed or the identity.

    Cached per key bytes (the decode, the subgroup check and the lines cost a few ms).
    """
    return _prepare_key(bytes(pk_g2))


def clear_public_key_cache() -> None:
    """Forget every prepared public key (benchmarks of the uncached path use this)."""
    _prepare_key.cache_clear()


_GENERATOR_LINES = prepare_g2(G2_GENERATOR)


def public_key_g1(sk: int) -> bytes:
    """The 64-byte G1 public key sk·G1."""
    return g1_encode(generator_mul(_scalar(sk)))


def public_key_g2(sk: int) -> bytes:
    """The 128-byte G2 public key sk·G2."""
    return g2_encode(g2_generator_mul(_scalar(sk)))


def sign_solidity(sk: int, digest32: bytes) -> bytes:
    """crypto-libs `SignSolidityCompatible`: sk·hashToG1(digest) (Solidity hash), 64 bytes."""
    scalar = _scalar(sk)
    return g1_encode(g1_mul(solidity_hash_to_g1(digest32), scalar))


def sign(sk: int, msg: bytes, dst: bytes = DEFAULT_DST) -> bytes:
    """crypto-libs `Sign`: sk·HashToG1(msg, dst) with the RFC 9380 hash, 64 bytes."""
    scalar = _scalar(sk)
    return g1_encode(g1_mul(rfc9380_hash_to_g1(msg, dst), scalar))


def _pairing_check(pk_g2: bytes, hashed: G1Affine | None, signature: bytes) -> bool:
    """e(-sig, G2)·e(H, pk) == 1; False for a malformed or identity key or a malformed sig."""
    lines = prepared_public_key(pk_g2)
    if lines is None:
        return False
    try:
        sigma = g1_decode(signature)
    except ValueError:
        return False
    return pairing_product_is_one([(g1_neg(sigma), _GENERATOR_LINES), (hashed, lines)])


def verify(pk_g2: bytes, msg: bytes, signature: bytes, dst: bytes = DEFAULT_DST) -> bool:
    """crypto-libs `Verify`: does `signature` sign `msg` (RFC 9380 hash) under the G2 key?"""
    return _pairing_check(pk_g2, rfc9380_hash_to_g1(msg, dst), signature)


def verify_solidity(pk_g2: bytes, digest32: bytes, signature: bytes) -> bool:
    """crypto-libs `VerifySolidityCompatible`: the check for `sign_solidity` signatures."""
    return _pairing_check(pk_g2, solidity_hash_to_g1(digest32), signature)
