"""Hash to G1: the Solidity try-and-increment and RFC 9380 (expand_message_xmd + SVDW).

The same algorithms as `executor_adapters.signing.bn254` (signing.md §1.5, §1.6), on mpz with
GMP's `legendre`, `invert` and `powmod`. Results are affine `(x, y)` or None for infinity.
"""

from __future__ import annotations

import hashlib

from executor_adapters.signing.bn254.fast.field import (
    SQRT_EXPONENT,
    P,
    invert,
    legendre,
    mpz,
    powmod,
)
from executor_adapters.signing.bn254.fast.g1 import G1Affine, g1_add_affine

__all__ = [
    "DEFAULT_DST",
    "expand_message_xmd",
    "hash_to_field",
    "map_to_curve_svdw",
    "rfc9380_encode_to_g1",
    "rfc9380_hash_to_g1",
    "solidity_hash_to_g1",
]

DEFAULT_DST = b"BLS_SIG_BN254G1_XMD:SHA-256_SSWU_RO_NUL_"
"""The DST crypto-libs passes to gnark's HashToG1 (the "SSWU" in it is a misnomer)."""

_WORD = 32
_XMD_MAX_DST = 255
_FIELD_ELEMENT_BYTES = 48  # L = ceil((ceil(log2 p) + 128) / 8) in RFC 9380 hash_to_field


def _g(x: int) -> int:
    return (x * x * x + 3) % P


# SVDW constants for A = 0, B = 3, Z = 1 (RFC 9380 §6.6.1), derived as in bn254.py.
_Z = 1
_C1 = _g(mpz(_Z))
_C2 = (-_Z * invert(mpz(2), P)) % P
_C3 = powmod((-_C1 * 3 * _Z * _Z) % P, SQRT_EXPONENT, P)
if _C3 & 1:  # sgn0(c3) = 0
    _C3 = P - _C3
_C4 = (-4 * _C1 * invert(mpz(3 * _Z * _Z), P)) % P


def solidity_hash_to_g1(digest32: bytes) -> G1Affine:
    """`BN254.hashToG1(bytes32)`: x = digest mod p, incremented until x³ + 3 is a square.

    y is the raw β^((p+1)/4) (no sign choice). The Legendre symbol (cheap in GMP) tells the
    squares apart first; for a square β the exponentiation gives a root, as on chain.
    """
    if len(digest32) != _WORD:
        raise ValueError(f"the Solidity hash takes a 32-byte digest, got {len(digest32)} bytes")
    x = mpz(int.from_bytes(digest32, "big")) % P
    while True:
        beta = (x * x * x + 3) % P
        if legendre(beta, P) >= 0:
            return x, powmod(beta, SQRT_EXPONENT, P)
        x = (x + 1) % P


def expand_message_xmd(msg: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 `expand_message_xmd` with SHA-256.

    DSTs longer than 255 bytes are refused rather than pre-hashed: no caller here needs them.
    """
    if not 0 < len(dst) <= _XMD_MAX_DST:
        raise ValueError(f"the DST must be 1 to {_XMD_MAX_DST} bytes, got {len(dst)}")
    blocks = -(-length // 32)
    if not 0 < length <= 0xFFFF or blocks > 255:
        raise ValueError(f"cannot expand to {length} bytes")
    dst_prime = dst + bytes([len(dst)])
    msg_prime = bytes(64) + msg + length.to_bytes(2, "big") + b"\x00" + dst_prime
    b0 = hashlib.sha256(msg_prime).digest()
    previous = hashlib.sha256(b0 + b"\x01" + dst_prime).digest()
    out = [previous]
    b0_int = int.from_bytes(b0, "big")
    for index in range(2, blocks + 1):
        mixed = (b0_int ^ int.from_bytes(previous, "big")).to_bytes(32, "big")
        previous = hashlib.sha256(mixed + bytes([index]) + dst_prime).digest()
        out.append(previous)
    return b"".join(out)[:length]


def hash_to_field(msg: bytes, dst: bytes, count: int) -> list[int]:
    """RFC 9380 `hash_to_field` into Fp with L = 48 bytes per element."""
    uniform = expand_message_xmd(msg, dst, count * _FIELD_ELEMENT_BYTES)
    size = _FIELD_ELEMENT_BYTES
    return [
        mpz(int.from_bytes(uniform[i * size : (i + 1) * size], "big")) % P for i in range(count)
    ]


def map_to_curve_svdw(u: int) -> G1Affine:
    """RFC 9380 Shallue-van de Woestijne map (straight-line §F.1); sgn0(y) follows sgn0(u)."""
    u = mpz(u) % P
    tv1 = u * u * _C1 % P
    tv2 = 1 + tv1
    tv1 = 1 - tv1
    tv12 = tv1 * tv2 % P
    tv3 = invert(tv12, P) if tv12 else mpz(0)  # inv0
    tv4 = u * tv1 * tv3 % P * _C3 % P
    x1 = (_C2 - tv4) % P
    gx = _g(x1)
    if legendre(gx, P) < 0:
        x2 = (_C2 + tv4) % P
        gx = _g(x2)
        if legendre(gx, P) < 0:
            x3 = tv2 * tv2 * tv3 % P
            x = (x3 * x3 * _C4 + _Z) % P
            gx = _g(x)
        else:
            x = x2
    else:
        x = x1
    y = powmod(gx, SQRT_EXPONENT, P)
    if (u & 1) != (y & 1):
        y = (P - y) % P
    return x, y


def rfc9380_hash_to_g1(msg: bytes, dst: bytes = DEFAULT_DST) -> G1Affine | None:
    """RFC 9380 `hash_to_curve` (two map calls, summed), as gnark's `HashToG1`.

    BN254 G1 has cofactor 1, so there is no cofactor clearing. The result is None (infinity)
    only if the two map outputs are opposite points, which happens with probability ~2⁻²⁵⁴.
    """
    u0, u1 = hash_to_field(msg, dst, 2)
    return g1_add_affine(map_to_curve_svdw(u0), map_to_curve_svdw(u1))


def rfc9380_encode_to_g1(msg: bytes, dst: bytes) -> G1Affine:
    """RFC 9380 `encode_to_curve` (one map call), as gnark's `EncodeToG1`."""
    (u,) = hash_to_field(msg, dst, 1)
    return map_to_curve_svdw(u)
