"""BLS12-381 signatures as crypto-libs `bls381` makes them (signing.md §2).

Signatures live in **G1** and public keys in **G2** (the minimal-signature-size variant):
sig = sk·H(m) with H the RFC 9380 suite `BLS12381G1_XMD:SHA-256_SSWU_RO_` and the DST
`BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`; no proof of possession, no message augmentation.
This is *not* the Ethereum consensus scheme (keys in G1, signatures in G2), so blspy's schemes
cannot produce these signatures.

The arithmetic is py-arkworks-bls12381 (native arkworks): hash, scalar multiplication and the
pairing check. A signature takes about 0.25 ms; py-ecc, which the tests use as the oracle, takes
about 5 ms.

Encodings follow gnark-crypto, with the ZCash flags in the top three bits of byte 0:

| object | raw (`to_bytes`) | compressed (also decoded) |
| --- | --- | --- |
| G1 | 96 bytes `X ‖ Y`; infinity `0x40` then zeros | 48 bytes |
| G2 | 192 bytes `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`; infinity `0x40` then zeros | 96 bytes `X.A1 ‖ X.A0` |

py-arkworks writes G2 coordinates real part first (`x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1`) and the point at
infinity as zeros; this module converts. Secret keys are non-negative integers (or big-endian
bytes of any length, read as one); they are reduced mod r, which gives the same points as gnark's
unreduced multiplication. Malformed points raise `ValueError`; `verify` returns False instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

DST = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"
"""The domain separation tag crypto-libs passes to gnark's `bls12381.HashToG1`."""

CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
FIELD_MODULUS = int(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab",
    16,
)

G1_RAW_BYTES = 96
G1_COMPRESSED_BYTES = 48
G2_RAW_BYTES = 192
G2_COMPRESSED_BYTES = 96

_FP = 48
_FLAG_MASK = 0xE0
_UNCOMPRESSED = 0x00
_UNCOMPRESSED_INFINITY = 0x40

_G1_GENERATOR = G1Point()
_G2_GENERATOR = G2Point()
_NEG_G2_GENERATOR = -G2Point()
_G1_IDENTITY = G1Point.identity()
_T = TypeVar("_T")
_G2_IDENTITY = G2Point.identity()


def scalar_of(sk: int | bytes) -> Scalar:
    """The arkworks scalar of a secret key: an integer, or big-endian bytes of any length."""
    value = int.from_bytes(sk, "big") if isinstance(sk, bytes | bytearray) else sk
    if value < 0:
        raise ValueError("a BLS12-381 secret key cannot be negative")
    return Scalar(value % CURVE_ORDER)


# --- encodings --------------------------------------------------------------------------------


def _infinity_raw(length: int) -> bytes:
    return bytes([_UNCOMPRESSED_INFINITY]) + bytes(length - 1)


def _raw_flags(data: bytes, what: str) -> bool:
    """Check the flag bits of a raw (uncompressed) encoding; return True for infinity."""
    flags = data[0] & _FLAG_MASK
    if flags == _UNCOMPRESSED_INFINITY:
        if data[0] & ~_FLAG_MASK or any(data[1:]):
            raise ValueError(f"invalid {what}: infinity flag with non-zero coordinates")
        return True
    if flags != _UNCOMPRESSED:
        raise ValueError(f"invalid {what}: compression flags on a raw encoding")
    # gnark reads the all-zero affine pair as the point at infinity too.
    return not any(data)


def g1_to_bytes(point: G1Point) -> bytes:
    """The 96-byte raw gnark encoding `X ‖ Y` (infinity: `0x40` then zeros)."""
    if point == _G1_IDENTITY:
        return _infinity_raw(G1_RAW_BYTES)
    return point.to_xy_bytes_be()


def g1_to_compressed(point: G1Point) -> bytes:
    """The 48-byte compressed (ZCash) encoding."""
    return point.to_compressed_bytes()


def g1_from_bytes(data: bytes) -> G1Point:
    """Decode a G1 point from 96 raw or 48 compressed bytes, with the subgroup check.

    Raises:
        ValueError: wrong length, bad flags, a coordinate ≥ p, off the curve or outside the
            prime-order subgroup.
    """
    data = bytes(data)
    if len(data) == G1_RAW_BYTES:
        if _raw_flags(data, "G1 point"):
            return G1Point.identity()
        return _arkworks(G1Point.from_xy_bytes_be, data, "G1 point")
    if len(data) == G1_COMPRESSED_BYTES:
        return _arkworks(G1Point.from_compressed_bytes, data, "compressed G1 point")
    raise ValueError(
        f"a G1 point is {G1_RAW_BYTES} or {G1_COMPRESSED_BYTES} bytes, got {len(data)}"
    )


def g2_to_bytes(point: G2Point) -> bytes:
    """The 192-byte raw gnark encoding `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0` (infinity: `0x40`, zeros)."""
    if point == _G2_IDENTITY:
        return _infinity_raw(G2_RAW_BYTES)
    return _swap_fp2_halves(point.to_xy_bytes_be())


def _swap_fp2_halves(xy: bytes) -> bytes:
    """arkworks `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1` ⇄ gnark `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0` (an involution)."""
    return xy[_FP : 2 * _FP] + xy[:_FP] + xy[3 * _FP :] + xy[2 * _FP : 3 * _FP]


def g2_to_compressed(point: G2Point) -> bytes:
    """The 96-byte compressed (ZCash) encoding, `X.A1 ‖ X.A0` with flags."""
    return point.to_compressed_bytes()


def g2_from_bytes(data: bytes) -> G2Point:
    """Decode a G2 point from 192 raw (gnark order) or 96 compressed bytes, with checks.

    Raises:
        ValueError: wrong length, bad flags, a coordinate ≥ p, off the curve or outside the
            prime-order subgroup.
    """
    data = bytes(data)
    if len(data) == G2_RAW_BYTES:
        if _raw_flags(data, "G2 point"):
            return G2Point.identity()
        arkworks_order = (
            data[_FP : 2 * _FP] + data[:_FP] + data[3 * _FP :] + data[2 * _FP : 3 * _FP]
        )
        return _arkworks(G2Point.from_xy_bytes_be, arkworks_order, "G2 point")
    if len(data) == G2_COMPRESSED_BYTES:
        return _arkworks(G2Point.from_compressed_bytes, data, "compressed G2 point")
    raise ValueError(
        f"a G2 point is {G2_RAW_BYTES} or {G2_COMPRESSED_BYTES} bytes, got {len(data)}"
    )


def _arkworks(decode: Callable[[bytes], _T], data: bytes, what: str) -> _T:
    try:
        return decode(data)
    except ValueError as exc:
        # arkworks says e.g. "Err From Rust: serialised data seems to be invalid".
        reason = str(exc).removeprefix("Err From Rust: ")
        raise ValueError(f"invalid {what}: {reason}") from None


# --- keys, signatures -------------------------------------------------------------------------


def hash_to_g1(msg: bytes, dst: bytes = DST) -> G1Point:
    """RFC 9380 `BLS12381G1_XMD:SHA-256_SSWU_RO_` hash of `msg` (gnark `HashToG1`)."""
    return G1Point.hash_to_curve(bytes(msg), bytes(dst))


def public_key_g2(sk: int | bytes) -> bytes:
    """The 192-byte raw G2 public key sk·G2 (crypto-libs `PublicKey.Bytes()`, keystore pubkey)."""
    return g2_to_bytes(_G2_GENERATOR * scalar_of(sk))


def public_key_g1(sk: int | bytes) -> bytes:
    """The 96-byte raw G1 point sk·G1 (the Ethereum-style key; crypto-libs does not use it)."""
    return g1_to_bytes(_G1_GENERATOR * scalar_of(sk))


def sign(sk: int | bytes, msg: bytes, dst: bytes = DST) -> bytes:
    """crypto-libs `bls381.Sign`: sk·H(msg) as 96 raw G1 bytes. Deterministic."""
    return sign_with_scalar(scalar_of(sk), msg, dst)


def sign_with_scalar(scalar: Scalar, msg: bytes, dst: bytes = DST) -> bytes:
    """`sign` with a prepared scalar (`scalar_of`), for signers that sign many messages."""
    return g1_to_bytes(hash_to_g1(msg, dst) * scalar)


def verify(pk_g2: bytes, msg: bytes, signature: bytes, dst: bytes = DST) -> bool:
    """Check e(sig, G2) == e(H(msg), pk) for a raw/compressed G2 key and G1 signature.

    Returns False (never raises) for malformed points, and for a key or signature at infinity
    (which would make any message verify).
    """
    try:
        public_key = g2_from_bytes(pk_g2)
        sigma = g1_from_bytes(signature)
    except ValueError:
        return False
    if public_key == _G2_IDENTITY or sigma == _G1_IDENTITY:
        return False
    return GT.pairing_check([sigma, hash_to_g1(msg, dst)], [_NEG_G2_GENERATOR, public_key])
