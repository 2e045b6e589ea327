"""G2 arithmetic: the r-torsion of the twist E': y² = x³ + 3/ξ over Fp2.

Affine points are `(x, y)` with x, y ∈ Fp2 (tuples of mpz), infinity is `None`. G2 is used
for public keys only, so speed matters less than in G1: scalar multiplication is a plain
width-5 NAF double-and-add in Jacobian coordinates (used by the subgroup check `r·Q = O`, whose
result callers cache per key), and the generator has a fixed-base table for key derivation.
"""

from __future__ import annotations

from typing import TypeAlias

from executor_adapters.signing.bn254.fast.field import (
    B2,
    FP2_ONE,
    XI,
    Fp2,
    P,
    R,
    fp2_add,
    fp2_conj,
    fp2_inv,
    fp2_mul,
    fp2_neg,
    fp2_pow,
    fp2_sqr,
    fp2_sub,
    mpz,
)
from executor_adapters.signing.bn254.fast.g1 import wnaf

__all__ = [
    "G2_GENERATOR",
    "G2Affine",
    "g2_add_affine",
    "g2_generator_mul",
    "g2_in_subgroup",
    "g2_is_on_curve",
    "g2_mul",
    "g2_neg",
    "g2_psi",
]

G2Affine: TypeAlias = tuple[Fp2, Fp2]
_Jacobian: TypeAlias = tuple[Fp2, Fp2, Fp2]

G2_GENERATOR: G2Affine = (
    (
        mpz(10857046999023057135944570762232829481370756359578518086990519993285655852781),
        mpz(11559732032986387107991004021392285783925812861821192530917403151452391805634),
    ),
    (
        mpz(8495653923123431417604973247489272438418190587263600148770280649306958101930),
        mpz(4082367875863433681332203403145435568316851327593401208105741076214120093531),
    ),
)
_ZERO2: Fp2 = (mpz(0), mpz(0))
_INFINITY: _Jacobian = (FP2_ONE, FP2_ONE, _ZERO2)

# ψ = untwist ∘ Frobenius ∘ twist: (x, y) ↦ (conj(x)·ξ^((p-1)/3), conj(y)·ξ^((p-1)/2)).
_PSI_X = fp2_pow(XI, (int(P) - 1) // 3)
_PSI_Y = fp2_pow(XI, (int(P) - 1) // 2)


def g2_is_on_curve(x: Fp2, y: Fp2) -> bool:
    return fp2_sub(fp2_sqr(y), fp2_mul(fp2_sqr(x), x)) == B2


def g2_neg(point: G2Affine | None) -> G2Affine | None:
    return None if point is None else (point[0], fp2_neg(point[1]))


def g2_psi(point: G2Affine) -> G2Affine:
    """The p-power Frobenius seen on the twist (the π(Q) of the optimal ate pairing)."""
    x, y = point
    return fp2_mul(fp2_conj(x), _PSI_X), fp2_mul(fp2_conj(y), _PSI_Y)


def g2_add_affine(a: G2Affine | None, b: G2Affine | None) -> G2Affine | None:
    if a is None:
        return b
    if b is None:
        return a
    x1, y1 = a
    x2, y2 = b
    if x1 == x2:
        if fp2_add(y1, y2) == _ZERO2:
            return None
        xx = fp2_sqr(x1)
        lam = fp2_mul((3 * xx[0], 3 * xx[1]), fp2_inv((2 * y1[0], 2 * y1[1])))
    else:
        lam = fp2_mul(fp2_sub(y2, y1), fp2_inv(fp2_sub(x2, x1)))
    x3 = fp2_sub(fp2_sub(fp2_sqr(lam), x1), x2)
    return x3, fp2_sub(fp2_mul(lam, fp2_sub(x1, x3)), y1)


def _double(p: _Jacobian) -> _Jacobian:
    """dbl-2009-l for a = 0 over Fp2."""
    x, y, z = p
    a = fp2_sqr(x)
    b = fp2_sqr(y)
    c = fp2_sqr(b)
    xb = fp2_sqr(fp2_add(x, b))
    d0 = 2 * (xb[0] - a[0] - c[0]) % P
    d1 = 2 * (xb[1] - a[1] - c[1]) % P
    e = (3 * a[0] % P, 3 * a[1] % P)
    f = fp2_sqr(e)
    x3 = ((f[0] - 2 * d0) % P, (f[1] - 2 * d1) % P)
    t = fp2_mul(e, ((d0 - x3[0]) % P, (d1 - x3[1]) % P))
    y3 = ((t[0] - 8 * c[0]) % P, (t[1] - 8 * c[1]) % P)
    yz = fp2_mul(y, z)
    return x3, y3, (2 * yz[0] % P, 2 * yz[1] % P)


def _add_mixed(p: _Jacobian, x2: Fp2, y2: Fp2) -> _Jacobian:
    """madd-2007-bl over Fp2; exceptional cases (equal or opposite points) handled."""
    x1, y1, z1 = p
    if z1 == _ZERO2:
        return x2, y2, FP2_ONE
    z1z1 = fp2_sqr(z1)
    h = fp2_sub(fp2_mul(x2, z1z1), x1)
    s = fp2_sub(fp2_mul(y2, fp2_mul(z1, z1z1)), y1)
    rr = (2 * s[0] % P, 2 * s[1] % P)
    if h == _ZERO2:
        return _double(p) if rr == _ZERO2 else _INFINITY
    hh = fp2_sqr(h)
    i = (4 * hh[0] % P, 4 * hh[1] % P)
    j = fp2_mul(h, i)
    v = fp2_mul(x1, i)
    x3 = fp2_sub(fp2_sub(fp2_sqr(rr), j), (2 * v[0], 2 * v[1]))
    y1j = fp2_mul(y1, j)
    y3 = fp2_sub(fp2_mul(rr, fp2_sub(v, x3)), (2 * y1j[0], 2 * y1j[1]))
    z3 = fp2_sub(fp2_sub(fp2_sqr(fp2_add(z1, h)), z1z1), hh)
    return x3, y3, z3


def _to_affine(p: _Jacobian) -> G2Affine | None:
    x, y, z = p
    if z == _ZERO2:
        return None
    zi = fp2_inv(z)
    zi2 = fp2_sqr(zi)
    return fp2_mul(x, zi2), fp2_mul(y, fp2_mul(zi2, zi))


def g2_mul(point: G2Affine | None, k: int) -> G2Affine | None:
    """k·Q for k ≥ 0 (not reduced: the subgroup check multiplies by r itself)."""
    if point is None or k == 0:
        return None
    # Odd multiples Q, 3Q, …, 15Q; points off the subgroup may have small order, so an entry
    # can be the point at infinity (None), which the loop then skips.
    double = g2_add_affine(point, point)
    table: list[G2Affine | None] = [point]
    for _ in range(7):
        table.append(g2_add_affine(table[-1], double))
    acc = _INFINITY
    for d in reversed(wnaf(int(k))):
        if acc[2] != _ZERO2:
            acc = _double(acc)
        entry = table[abs(d) >> 1] if d else None
        if entry is not None:
            x, y = entry
            acc = _add_mixed(acc, x, y if d > 0 else fp2_neg(y))
    return _to_affine(acc)


def g2_in_subgroup(point: G2Affine) -> bool:
    """Is the (on-curve) point in the order-r subgroup? Plain check r·Q = O."""
    return g2_mul(point, int(R)) is None


# Fixed-base table for the generator: _table[i][d - 1] = d·16^i·G2 for d = 1..8 (lazy).
_DIGITS = 65
_generator_table: list[list[G2Affine]] = []


def _build_generator_table() -> list[list[G2Affine]]:
    table = []
    base: G2Affine | None = G2_GENERATOR
    for _ in range(_DIGITS):
        assert base is not None
        row = [base]
        for _ in range(7):
            nxt = g2_add_affine(row[-1], base)
            assert nxt is not None
            row.append(nxt)
        table.append(row)
        base = g2_add_affine(row[7], row[7])
    return table


def g2_generator_mul(k: int) -> G2Affine | None:
    """k·G2 from the fixed-base table (signed radix-16 digits, about 64 mixed additions)."""
    k = int(k) % int(R)
    if not k:
        return None
    if not _generator_table:
        _generator_table.extend(_build_generator_table())
    acc = _INFINITY
    for row in _generator_table:
        d = k & 15
        k >>= 4
        if d > 8:
            d -= 16
            k += 1
        if d > 0:
            x, y = row[d - 1]
            acc = _add_mixed(acc, x, y)
        elif d < 0:
            x, y = row[-d - 1]
            acc = _add_mixed(acc, x, fp2_neg(y))
    return _to_affine(acc)
