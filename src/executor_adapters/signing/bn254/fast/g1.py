"""G1 arithmetic: y² = x³ + 3 over Fp, prime order r (cofactor 1).

Affine points are `(x, y)` tuples of mpz, the point at infinity is `None`. Inner loops work in
Jacobian coordinates `(X, Y, Z)` (x = X/Z², y = Y/Z³, Z = 0 at infinity).

Scalar multiplication of an arbitrary point uses the GLV endomorphism φ(x, y) = (β·x, y) = λ·P:
the scalar k is split as k ≡ k1 + k2·λ (mod r) with |k1|, |k2| ≈ √r, and both halves are
processed in one double-and-add loop over their width-5 NAFs (Shamir's trick), about 127
doublings and 40 mixed additions. The generator has a fixed-base table instead (see
`generator_mul`): 64 signed radix-16 digits, one mixed addition per digit, no doublings.
"""

from __future__ import annotations

from math import isqrt
from typing import TypeAlias

from executor_adapters.signing.bn254.fast.field import P, R, invert, mpz

__all__ = [
    "BETA",
    "G1_GENERATOR",
    "LAMBDA",
    "G1Affine",
    "g1_add_affine",
    "g1_is_on_curve",
    "g1_mul",
    "g1_neg",
    "generator_mul",
    "glv_split",
    "wnaf",
]

G1Affine: TypeAlias = tuple[int, int]
_Jacobian: TypeAlias = tuple[int, int, int]

G1_GENERATOR: G1Affine = (mpz(1), mpz(2))
_INFINITY: _Jacobian = (mpz(1), mpz(1), mpz(0))

BETA = mpz(0x30644E72E131A0295E6DD9E7E0ACCCB0C28F069FBB966E3DE4BD44E5607CFD48)
"""A primitive cube root of unity in Fp; φ(x, y) = (β·x, y) is the endomorphism λ·P."""
LAMBDA = mpz(0x30644E72E131A029048B6E193FD84104CC37A73FEC2BC5E9B8CA0B2D36636F23)
"""The cube root of unity mod r with φ(P) = λ·P for this β (checked by the tests)."""

_WINDOW = 5


def _glv_basis() -> tuple[tuple[int, int], tuple[int, int]]:
    """Two short vectors (a, b) with a + b·λ ≡ 0 (mod r), by the extended Euclidean algorithm.

    This is Algorithm 3.74 of Hankerson-Menezes-Vanstone (Guide to ECC).
    """
    n, lam = int(R), int(LAMBDA)
    remainders, coefficients = [n, lam], [0, 1]
    while remainders[-1]:
        q = remainders[-2] // remainders[-1]
        remainders.append(remainders[-2] - q * remainders[-1])
        coefficients.append(coefficients[-2] - q * coefficients[-1])
    root = isqrt(n)
    last = max(i for i, value in enumerate(remainders) if value >= root)
    v1 = (remainders[last + 1], -coefficients[last + 1])
    candidates = [(remainders[i], -coefficients[i]) for i in (last, last + 2)]
    v2 = min(candidates, key=lambda v: v[0] * v[0] + v[1] * v[1])
    return v1, v2


(_A1, _B1), (_A2, _B2) = _glv_basis()


def glv_split(k: int) -> tuple[int, int]:
    """Return (k1, k2), each about 128 bits and possibly negative, with k ≡ k1 + k2·λ (mod r)."""
    n = int(R)
    k = int(k)
    c1 = (2 * _B2 * k + n) // (2 * n)  # round(b2·k/r)
    c2 = (-2 * _B1 * k + n) // (2 * n)  # round(-b1·k/r)
    return k - c1 * _A1 - c2 * _A2, -c1 * _B1 - c2 * _B2


def wnaf(k: int, width: int = _WINDOW) -> list[int]:
    """Width-w non-adjacent form of k ≥ 0, least significant digit first; digits are odd."""
    digits: list[int] = []
    full, half = 1 << width, 1 << (width - 1)
    while k:
        if k & 1:
            digit = k & (full - 1)
            if digit >= half:
                digit -= full
            k -= digit
        else:
            digit = 0
        digits.append(digit)
        k >>= 1
    return digits


def g1_is_on_curve(x: int, y: int) -> bool:
    return (y * y - x * x * x - 3) % P == 0


def g1_neg(point: G1Affine | None) -> G1Affine | None:
    return None if point is None else (point[0], -point[1] % P)


def g1_add_affine(a: G1Affine | None, b: G1Affine | None) -> G1Affine | None:
    """Affine addition with one inversion (cheap with GMP); handles doubling and infinity."""
    if a is None:
        return b
    if b is None:
        return a
    x1, y1 = a
    x2, y2 = b
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = 3 * x1 * x1 * invert(2 * y1, P) % P
    else:
        lam = (y2 - y1) * invert(x2 - x1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def _double(p: _Jacobian) -> _Jacobian:
    """dbl-2009-l for a = 0."""
    x, y, z = p
    a = x * x % P
    b = y * y % P
    c = b * b % P
    d = 2 * ((x + b) ** 2 - a - c) % P
    e = 3 * a
    x3 = (e * e - 2 * d) % P
    return x3, (e * (d - x3) - 8 * c) % P, 2 * y * z % P


def _add_mixed(p: _Jacobian, x2: int, y2: int) -> _Jacobian:
    """p + (x2, y2) with the second point affine (madd-2007-bl); exceptional cases handled."""
    x1, y1, z1 = p
    if not z1:
        return x2, y2, mpz(1)
    z1z1 = z1 * z1 % P
    h = (x2 * z1z1 - x1) % P
    rr = 2 * (y2 * z1 * z1z1 - y1) % P
    if not h:
        return _double(p) if not rr else _INFINITY
    hh = h * h % P
    i = 4 * hh
    j = h * i % P
    v = x1 * i % P
    x3 = (rr * rr - j - 2 * v) % P
    return x3, (rr * (v - x3) - 2 * y1 * j) % P, ((z1 + h) ** 2 - z1z1 - hh) % P


def _to_affine(p: _Jacobian) -> G1Affine | None:
    x, y, z = p
    if not z:
        return None
    zi = invert(z, P)
    zi2 = zi * zi % P
    return x * zi2 % P, y * zi2 * zi % P


def _odd_multiples(point: G1Affine, count: int) -> list[G1Affine]:
    """[P, 3P, 5P, …] in affine form (count entries)."""
    double = g1_add_affine(point, point)
    table = [point]
    for _ in range(count - 1):
        nxt = g1_add_affine(table[-1], double)
        if nxt is None:  # only for points of tiny order, which G1 does not have
            raise ValueError("unexpected small-order point")
        table.append(nxt)
    return table


def g1_mul(point: G1Affine | None, k: int) -> G1Affine | None:
    """k·P for any integer k (reduced mod r), with GLV and interleaved width-5 NAFs."""
    k = int(k) % int(R)
    if point is None or k == 0:
        return None
    k1, k2 = glv_split(k)
    table = _odd_multiples(point, 1 << (_WINDOW - 2))
    # Sign of each half folded into its table: (-k)·Q = k·(-Q).
    t1 = [(x, y if k1 >= 0 else -y % P) for x, y in table]
    t2 = [(BETA * x % P, y if k2 >= 0 else -y % P) for x, y in table]
    n1, n2 = wnaf(abs(k1)), wnaf(abs(k2))
    length = max(len(n1), len(n2))
    n1 += [0] * (length - len(n1))
    n2 += [0] * (length - len(n2))
    acc = _INFINITY
    for i in range(length - 1, -1, -1):
        if acc[2]:
            acc = _double(acc)
        d = n1[i]
        if d:
            x, y = t1[d >> 1] if d > 0 else t1[-d >> 1]
            acc = _add_mixed(acc, x, y if d > 0 else P - y)
        d = n2[i]
        if d:
            x, y = t2[d >> 1] if d > 0 else t2[-d >> 1]
            acc = _add_mixed(acc, x, y if d > 0 else P - y)
    return _to_affine(acc)


# Fixed-base table for the generator: _TABLE[i][d - 1] = d·16^i·G for d = 1..8 (built lazily).
_DIGITS = 64
_generator_table: list[list[G1Affine]] = []


def _build_generator_table() -> list[list[G1Affine]]:
    table = []
    base: G1Affine | None = G1_GENERATOR
    for _ in range(_DIGITS + 1):  # one spare window for the carry of signed digits
        assert base is not None
        row = [base]
        for _ in range(7):
            nxt = g1_add_affine(row[-1], base)
            assert nxt is not None
            row.append(nxt)
        table.append(row)
        base = g1_add_affine(row[7], row[7])  # 16·base
    return table


def _signed_radix16(k: int) -> list[int]:
    """Digits in -8..8, least significant first, with Σ dᵢ·16^i = k."""
    digits = []
    for _ in range(_DIGITS + 1):
        d = k & 15
        k >>= 4
        if d > 8:
            d -= 16
            k += 1
        digits.append(d)
    return digits


def generator_mul(k: int) -> G1Affine | None:
    """k·G for the G1 generator, from the fixed-base table (about 64 mixed additions)."""
    k = int(k) % int(R)
    if not k:
        return None
    if not _generator_table:
        _generator_table.extend(_build_generator_table())
    acc = _INFINITY
    for row, d in zip(_generator_table, _signed_radix16(k), strict=True):
        if d > 0:
            x, y = row[d - 1]
            acc = _add_mixed(acc, x, y)
        elif d < 0:
            x, y = row[-d - 1]
            acc = _add_mixed(acc, x, P - y)
    return _to_affine(acc)
