"""BN254 on py-ecc: the slow, independent oracle the tests hold both backends to.

Test-only. Points are py-ecc's projective tuples, bytes are gnark's encodings (signing.md §1.4);
the two hash-to-G1 functions are written from signing.md §1.5 and §1.6, not from our code.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from py_ecc.fields import optimized_bn128_FQ as FQ
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128.optimized_curve import (
    G1,
    G2,
    Z1,
    Z2,
    add,
    b2,
    curve_order,
    field_modulus,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    normalize,
)
from py_ecc.optimized_bn128.optimized_pairing import final_exponentiate, pairing

from executor_adapters.signing.bn254.fast.hashing import DEFAULT_DST, expand_message_xmd

G1Point: TypeAlias = tuple[FQ, FQ, FQ]
"""A G1 point in py-ecc's projective form `(X, Y, Z)`; Z = 0 is the point at infinity."""
G2Point: TypeAlias = tuple[FQ2, FQ2, FQ2]
"""A G2 point in py-ecc's projective form over Fp2 = Fp[i]/(i² + 1)."""

FIELD_MODULUS: int = field_modulus
CURVE_ORDER: int = curve_order

_P = FIELD_MODULUS
_SQRT_EXPONENT = (_P + 1) // 4  # p ≡ 3 (mod 4): β^((p+1)/4) is a square root of any square β
_LEGENDRE_EXPONENT = (_P - 1) // 2
_G1_BYTES = 64
_G2_BYTES = 128
_WORD = 32
_FIELD_ELEMENT_BYTES = 48
# L = ceil((ceil(log2 p) + 128) / 8) in RFC 9380 hash_to_field


def _curve_rhs(x: int) -> int:
    """g(x) = x³ + 3, the right-hand side of the G1 curve equation."""
    return (x * x * x + 3) % _P


def _is_square(v: int) -> bool:
    """Euler's criterion; zero counts as a square, as RFC 9380 requires."""
    return v == 0 or pow(v, _LEGENDRE_EXPONENT, _P) == 1


def _sqrt(v: int) -> int:
    """A square root of the square `v` (the raw exponentiation, no sign choice)."""
    return pow(v, _SQRT_EXPONENT, _P)


# SVDW constants of RFC 9380 §6.6.1 for A = 0, B = 3, Z = 1, derived rather than pasted so that
# a typo cannot hide in them (the tests compare them with signing.md).
_Z = 1
_SVDW_C1 = _curve_rhs(_Z)
_SVDW_C2 = (-_Z * pow(2, -1, _P)) % _P
_SVDW_C3 = _sqrt((-_SVDW_C1 * 3 * _Z * _Z) % _P)
if _SVDW_C3 & 1:  # RFC 9380 fixes sgn0(c3) = 0
    _SVDW_C3 = _P - _SVDW_C3
_SVDW_C4 = (-4 * _SVDW_C1 * pow(3 * _Z * _Z, -1, _P)) % _P


def secret_to_scalar(secret: bytes) -> int:
    """Read a secret key the way crypto-libs does: big-endian, any length, unreduced."""
    return int.from_bytes(secret, "big")


def _scalar(sk: int) -> int:
    if sk < 0:
        raise ValueError("a secret key must not be negative")
    return sk % CURVE_ORDER


def _g1_affine(x: int, y: int) -> G1Point:
    return (FQ(x), FQ(y), FQ.one())


def _require_digest(digest32: bytes) -> None:
    if len(digest32) != _WORD:
        raise ValueError(f"the Solidity hash takes a 32-byte digest, got {len(digest32)} bytes")


# --- hash to G1 -------------------------------------------------------------------------------


def solidity_hash_to_g1(digest32: bytes) -> G1Point:
    """Map a 32-byte digest to G1 exactly as `BN254.hashToG1(bytes32)` does on chain.

    x starts at the digest mod p and is incremented until x³ + 3 is a square; y is the raw
    `β^((p+1)/4)`. Choosing the "other" root would make the contract reject the signature.
    """
    _require_digest(digest32)
    x = int.from_bytes(digest32, "big") % _P
    while True:
        beta = _curve_rhs(x)
        y = _sqrt(beta)
        if y * y % _P == beta:
            return _g1_affine(x, y)
        x = (x + 1) % _P


def _hash_to_field(msg: bytes, dst: bytes, count: int) -> list[int]:
    uniform = expand_message_xmd(msg, dst, count * _FIELD_ELEMENT_BYTES)
    return [
        int.from_bytes(uniform[i * _FIELD_ELEMENT_BYTES : (i + 1) * _FIELD_ELEMENT_BYTES], "big")
        % _P
        for i in range(count)
    ]


def map_to_curve_svdw(u: int) -> tuple[int, int]:
    """RFC 9380 Shallue-van de Woestijne map (straight-line §F.1) of a field element to G1.

    Returns affine integer coordinates; the sign of y follows sgn0(u).
    """
    u %= _P
    tv1 = u * u % _P * _SVDW_C1 % _P
    tv2 = (1 + tv1) % _P
    tv1 = (1 - tv1) % _P
    tv3 = pow(tv1 * tv2 % _P, -1, _P) if tv1 * tv2 % _P else 0  # inv0
    tv4 = u * tv1 % _P * tv3 % _P * _SVDW_C3 % _P
    x1 = (_SVDW_C2 - tv4) % _P
    x2 = (_SVDW_C2 + tv4) % _P
    x3 = tv2 * tv2 % _P * tv3 % _P
    x3 = (x3 * x3 % _P * _SVDW_C4 + _Z) % _P
    if _is_square(_curve_rhs(x1)):
        x = x1
    elif _is_square(_curve_rhs(x2)):
        x = x2
    else:
        x = x3
    y = _sqrt(_curve_rhs(x))
    if (u & 1) != (y & 1):
        y = (_P - y) % _P
    return x, y


def rfc9380_hash_to_g1(msg: bytes, dst: bytes = DEFAULT_DST) -> G1Point:
    """RFC 9380 `hash_to_curve` (random oracle, two map calls), as gnark's `HashToG1`.

    BN254 G1 has cofactor 1, so there is no cofactor clearing.
    """
    u0, u1 = _hash_to_field(msg, dst, 2)
    return add(_g1_affine(*map_to_curve_svdw(u0)), _g1_affine(*map_to_curve_svdw(u1)))


def rfc9380_encode_to_g1(msg: bytes, dst: bytes) -> G1Point:
    """RFC 9380 `encode_to_curve` (non-uniform, one map call), as gnark's `EncodeToG1`."""
    (u,) = _hash_to_field(msg, dst, 1)
    return _g1_affine(*map_to_curve_svdw(u))


# --- encodings --------------------------------------------------------------------------------


def _coordinates(data: bytes, count: int) -> list[int]:
    values = [int.from_bytes(data[i * _WORD : (i + 1) * _WORD], "big") for i in range(count)]
    if any(v >= _P for v in values):
        raise ValueError("a coordinate is not below the field modulus")
    return values


def g1_to_bytes(point: G1Point) -> bytes:
    """Encode a G1 point as 64 bytes `X ‖ Y` (all zeros for the point at infinity)."""
    if is_inf(point):
        return bytes(_G1_BYTES)
    x, y = normalize(point)
    return int(x).to_bytes(_WORD, "big") + int(y).to_bytes(_WORD, "big")


def g1_from_bytes(data: bytes) -> G1Point:
    """Decode 64 bytes `X ‖ Y`, rejecting coordinates ≥ p and points off the curve.

    All zeros decode to the point at infinity, as in gnark. G1 has cofactor 1, so being on the
    curve is the subgroup check.
    """
    if len(data) != _G1_BYTES:
        raise ValueError(f"a G1 point is {_G1_BYTES} bytes, got {len(data)}")
    if not any(data):
        return Z1
    x, y = _coordinates(data, 2)
    if (y * y - x * x * x - 3) % _P:
        raise ValueError("the G1 point is not on the curve")
    return _g1_affine(x, y)


def g2_to_bytes(point: G2Point) -> bytes:
    """Encode a G2 point as 128 bytes `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0` (gnark and EIP-197 order)."""
    if is_inf(point):
        return bytes(_G2_BYTES)
    x, y = normalize(point)
    words = (x.coeffs[1], x.coeffs[0], y.coeffs[1], y.coeffs[0])
    return b"".join((int(w) % _P).to_bytes(_WORD, "big") for w in words)


def g2_from_bytes(data: bytes) -> G2Point:
    """Decode 128 bytes `X.A1 ‖ X.A0 ‖ Y.A1 ‖ Y.A0`, with range, curve and subgroup checks.

    G2 has a large cofactor, so a point on the twist may still lie outside the r-torsion; such
    points would let a forged key pass a pairing check, hence the `r·Q = O` test.
    """
    if len(data) != _G2_BYTES:
        raise ValueError(f"a G2 point is {_G2_BYTES} bytes, got {len(data)}")
    if not any(data):
        return Z2
    x_a1, x_a0, y_a1, y_a0 = _coordinates(data, 4)
    point: G2Point = (FQ2([x_a0, x_a1]), FQ2([y_a0, y_a1]), FQ2.one())
    if not is_on_curve(point, b2):
        raise ValueError("the G2 point is not on the twist curve")
    if not is_inf(multiply(point, CURVE_ORDER)):
        raise ValueError("the G2 point is not in the prime-order subgroup")
    return point


def aggregate_g1(points: Iterable[bytes]) -> bytes:
    """Sum encoded G1 points (signatures or G1 keys), as crypto-libs aggregation does."""
    total: G1Point = Z1
    for encoded in points:
        total = add(total, g1_from_bytes(encoded))
    return g1_to_bytes(total)


def aggregate_g2(points: Iterable[bytes]) -> bytes:
    """Sum encoded G2 public keys into the aggregate key a certificate carries."""
    total: G2Point = Z2
    for encoded in points:
        total = add(total, g2_from_bytes(encoded))
    return g2_to_bytes(total)


# --- the py-ecc reference versions (the oracle of the tests; ~20-100 times slower) ------------


def reference_public_key_g1(sk: int) -> bytes:
    """Return the 64-byte G1 public key sk·G1 (the KeyRegistrar's and the verifier's APK)."""
    return g1_to_bytes(multiply(G1, _scalar(sk)))


def reference_public_key_g2(sk: int) -> bytes:
    """Return the 128-byte G2 public key sk·G2 (crypto-libs `PublicKey.Bytes()`)."""
    return g2_to_bytes(multiply(G2, _scalar(sk)))


def reference_sign_solidity(sk: int, digest32: bytes) -> bytes:
    """crypto-libs `SignSolidityCompatible`: sk·hashToG1(digest), 64 bytes.

    The executor's c18d70e result signature is this over keccak256(output).
    """
    return g1_to_bytes(multiply(solidity_hash_to_g1(digest32), _scalar(sk)))


def reference_sign(sk: int, msg: bytes, dst: bytes = DEFAULT_DST) -> bytes:
    """crypto-libs `Sign`: sk·HashToG1(msg, dst) with the RFC 9380 hash, 64 bytes."""
    return g1_to_bytes(multiply(rfc9380_hash_to_g1(msg, dst), _scalar(sk)))


_NEG_G2: G2Point = neg(G2)


def _pairing_check(pk_g2: bytes, hashed: G1Point, signature: bytes) -> bool:
    """Check e(sig, -G2)·e(H, pk) = 1 with a single final exponentiation.

    The identity key is refused: with it, the identity "signature" would verify any message.
    """
    try:
        public_key = g2_from_bytes(pk_g2)
        sigma = g1_from_bytes(signature)
    except ValueError:
        return False
    if is_inf(public_key):
        return False
    product = pairing(_NEG_G2, sigma, final_exponentiate=False) * pairing(
        public_key, hashed, final_exponentiate=False
    )
    result: bool = final_exponentiate(product) == FQ12.one()
    return result


def reference_verify(pk_g2: bytes, msg: bytes, signature: bytes, dst: bytes = DEFAULT_DST) -> bool:
    """crypto-libs `Verify`: does `signature` sign `msg` (RFC 9380 hash) under the G2 key?"""
    return _pairing_check(pk_g2, rfc9380_hash_to_g1(msg, dst), signature)


def reference_verify_solidity(pk_g2: bytes, digest32: bytes, signature: bytes) -> bool:
    """crypto-libs `VerifySolidityCompatible`: the check for `sign_solidity` signatures."""
    return _pairing_check(pk_g2, solidity_hash_to_g1(digest32), signature)
