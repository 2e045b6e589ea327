"""The tower Fp6 = Fp2[v]/(v³ - ξ) and Fp12 = Fp6[w]/(w² - v) that pairings take values in.

An Fp6 element `x0 + x1·v + x2·v²` (xk ∈ Fp2) is the flat 6-tuple
`(x0.re, x0.im, x1.re, x1.im, x2.re, x2.im)` of mpz; an Fp12 element `g + h·w` is the pair
`(g, h)`. In powers of w (w⁶ = ξ) that is `g0 + h0·w + g1·w² + h1·w³ + g2·w⁴ + h2·w⁵`.

Multiplications are written out over Fp with lazy reduction: products are summed as unreduced
integers and each output coefficient is reduced once. `*_raw` helpers return unreduced tuples.
"""

from __future__ import annotations

from typing import TypeAlias

from executor_adapters.signing.bn254.fast.field import (
    XI,
    Fp2,
    P,
    fp2_conj,
    fp2_inv,
    fp2_mul,
    fp2_pow,
    fp2_sqr,
    fp2_sub,
    mpz,
)

__all__ = [
    "FP12_ONE",
    "Fp6",
    "Fp12",
    "cyclotomic_sqr",
    "fp6_mul",
    "fp12_conj",
    "fp12_frobenius",
    "fp12_inv",
    "fp12_mul",
    "fp12_mul_line",
    "fp12_sqr",
]

Fp6: TypeAlias = tuple[int, int, int, int, int, int]
Fp12: TypeAlias = tuple[Fp6, Fp6]

_ZERO = mpz(0)
FP6_ZERO: Fp6 = (_ZERO, _ZERO, _ZERO, _ZERO, _ZERO, _ZERO)
FP6_ONE: Fp6 = (mpz(1), _ZERO, _ZERO, _ZERO, _ZERO, _ZERO)
FP12_ONE: Fp12 = (FP6_ONE, FP6_ZERO)


def _reduce(a: Fp6) -> Fp6:
    return (a[0] % P, a[1] % P, a[2] % P, a[3] % P, a[4] % P, a[5] % P)


def fp6_mul_raw(a: Fp6, b: Fp6) -> Fp6:
    """a·b in Fp6, schoolbook over Fp, unreduced."""
    a00, a01, a10, a11, a20, a21 = a
    b00, b01, b10, b11, b20, b21 = b
    # c0 = a0b0 + ξ(a1b2 + a2b1); c1 = a0b1 + a1b0 + ξ·a2b2; c2 = a0b2 + a1b1 + a2b0
    sr = a10 * b20 - a11 * b21 + a20 * b10 - a21 * b11
    si = a10 * b21 + a11 * b20 + a20 * b11 + a21 * b10
    tr = a20 * b20 - a21 * b21
    ti = a20 * b21 + a21 * b20
    return (
        a00 * b00 - a01 * b01 + 9 * sr - si,
        a00 * b01 + a01 * b00 + sr + 9 * si,
        a00 * b10 - a01 * b11 + a10 * b00 - a11 * b01 + 9 * tr - ti,
        a00 * b11 + a01 * b10 + a10 * b01 + a11 * b00 + tr + 9 * ti,
        a00 * b20 - a01 * b21 + a10 * b10 - a11 * b11 + a20 * b00 - a21 * b01,
        a00 * b21 + a01 * b20 + a10 * b11 + a11 * b10 + a20 * b01 + a21 * b00,
    )


def fp6_mul(a: Fp6, b: Fp6) -> Fp6:
    return _reduce(fp6_mul_raw(a, b))


def _fp6_mul_sparse_raw(a: Fp6, b0: int, b1: int, c0: int, c1: int) -> Fp6:
    """a·(b + c·v) with b = b0 + b1·i, c = c0 + c1·i, unreduced (24 multiplications)."""
    a00, a01, a10, a11, a20, a21 = a
    qr = a20 * c0 - a21 * c1  # a2·c, multiplied by ξ below
    qi = a20 * c1 + a21 * c0
    return (
        a00 * b0 - a01 * b1 + 9 * qr - qi,
        a00 * b1 + a01 * b0 + qr + 9 * qi,
        a00 * c0 - a01 * c1 + a10 * b0 - a11 * b1,
        a00 * c1 + a01 * c0 + a10 * b1 + a11 * b0,
        a10 * c0 - a11 * c1 + a20 * b0 - a21 * b1,
        a10 * c1 + a11 * c0 + a20 * b1 + a21 * b0,
    )


def fp12_mul(x: Fp12, y: Fp12) -> Fp12:
    """(g1 + h1·w)(g2 + h2·w) with Karatsuba: three Fp6 multiplications."""
    g1, h1 = x
    g2, h2 = y
    t0 = fp6_mul_raw(g1, g2)
    t1 = fp6_mul_raw(h1, h2)
    s = fp6_mul_raw(
        (g1[0] + h1[0], g1[1] + h1[1], g1[2] + h1[2], g1[3] + h1[3], g1[4] + h1[4], g1[5] + h1[5]),
        (g2[0] + h2[0], g2[1] + h2[1], g2[2] + h2[2], g2[3] + h2[3], g2[4] + h2[4], g2[5] + h2[5]),
    )
    return (
        (  # t0 + v·t1, where v·(x0, x1, x2) = (ξ·x2, x0, x1)
            (t0[0] + 9 * t1[4] - t1[5]) % P,
            (t0[1] + t1[4] + 9 * t1[5]) % P,
            (t0[2] + t1[0]) % P,
            (t0[3] + t1[1]) % P,
            (t0[4] + t1[2]) % P,
            (t0[5] + t1[3]) % P,
        ),
        (
            (s[0] - t0[0] - t1[0]) % P,
            (s[1] - t0[1] - t1[1]) % P,
            (s[2] - t0[2] - t1[2]) % P,
            (s[3] - t0[3] - t1[3]) % P,
            (s[4] - t0[4] - t1[4]) % P,
            (s[5] - t0[5] - t1[5]) % P,
        ),
    )


def fp12_sqr(x: Fp12) -> Fp12:
    """(g + h·w)² = (g + h)(g + v·h) - t - v·t + 2t·w with t = g·h (complex squaring)."""
    g, h = x
    t = _reduce(fp6_mul_raw(g, h))
    # g + v·h
    gvh = (g[0] + 9 * h[4] - h[5], g[1] + h[4] + 9 * h[5], g[2] + h[0], g[3] + h[1])
    s = fp6_mul_raw(
        (g[0] + h[0], g[1] + h[1], g[2] + h[2], g[3] + h[3], g[4] + h[4], g[5] + h[5]),
        (gvh[0], gvh[1], gvh[2], gvh[3], g[4] + h[2], g[5] + h[3]),
    )
    return (
        (
            (s[0] - t[0] - 9 * t[4] + t[5]) % P,
            (s[1] - t[1] - t[4] - 9 * t[5]) % P,
            (s[2] - t[2] - t[0]) % P,
            (s[3] - t[3] - t[1]) % P,
            (s[4] - t[4] - t[2]) % P,
            (s[5] - t[5] - t[3]) % P,
        ),
        (2 * t[0] % P, 2 * t[1] % P, 2 * t[2] % P, 2 * t[3] % P, 2 * t[4] % P, 2 * t[5] % P),
    )


def fp12_mul_line(x: Fp12, b0: int, b1: int, c0: int, c1: int) -> Fp12:
    """x·(1 + (b + c·v)·w): the sparse product with a Miller-loop line scaled to a 1 in front.

    With L = b + c·v: (g + h·w)(1 + L·w) = (g + v·h·L) + (h + g·L)·w.
    """
    g, h = x
    hl = _fp6_mul_sparse_raw(h, b0, b1, c0, c1)
    gl = _fp6_mul_sparse_raw(g, b0, b1, c0, c1)
    return (
        (
            (g[0] + 9 * hl[4] - hl[5]) % P,
            (g[1] + hl[4] + 9 * hl[5]) % P,
            (g[2] + hl[0]) % P,
            (g[3] + hl[1]) % P,
            (g[4] + hl[2]) % P,
            (g[5] + hl[3]) % P,
        ),
        (
            (h[0] + gl[0]) % P,
            (h[1] + gl[1]) % P,
            (h[2] + gl[2]) % P,
            (h[3] + gl[3]) % P,
            (h[4] + gl[4]) % P,
            (h[5] + gl[5]) % P,
        ),
    )


def fp12_conj(x: Fp12) -> Fp12:
    """g - h·w: the p⁶-Frobenius, and the inverse of elements of the cyclotomic subgroup."""
    g, h = x
    return (g, (-h[0] % P, -h[1] % P, -h[2] % P, -h[3] % P, -h[4] % P, -h[5] % P))


def _fp6_coeffs(a: Fp6) -> tuple[Fp2, Fp2, Fp2]:
    return (a[0], a[1]), (a[2], a[3]), (a[4], a[5])


def _fp6_inv(a: Fp6) -> Fp6:
    x0, x1, x2 = _fp6_coeffs(a)
    t0 = fp2_sub(fp2_sqr(x0), fp2_mul(XI, fp2_mul(x1, x2)))
    t1 = fp2_sub(fp2_mul(XI, fp2_sqr(x2)), fp2_mul(x0, x1))
    t2 = fp2_sub(fp2_sqr(x1), fp2_mul(x0, x2))
    n0 = fp2_mul(x0, t0)
    n1 = fp2_mul(XI, fp2_mul(x2, t1))
    n2 = fp2_mul(XI, fp2_mul(x1, t2))
    inv = fp2_inv(((n0[0] + n1[0] + n2[0]) % P, (n0[1] + n1[1] + n2[1]) % P))
    y0, y1, y2 = fp2_mul(t0, inv), fp2_mul(t1, inv), fp2_mul(t2, inv)
    return (y0[0], y0[1], y1[0], y1[1], y2[0], y2[1])


def fp12_inv(x: Fp12) -> Fp12:
    """(g + h·w)⁻¹ = (g - h·w)/(g² - v·h²); raises ZeroDivisionError for zero."""
    g, h = x
    gg = fp6_mul_raw(g, g)
    hh = fp6_mul_raw(h, h)
    norm = _reduce(
        (
            gg[0] - 9 * hh[4] + hh[5],
            gg[1] - hh[4] - 9 * hh[5],
            gg[2] - hh[0],
            gg[3] - hh[1],
            gg[4] - hh[2],
            gg[5] - hh[3],
        )
    )
    inv = _fp6_inv(norm)
    return fp12_conj((fp6_mul(g, inv), fp6_mul(h, inv)))


# Frobenius: (c·w^j)^(p^k) = c^(p^k)·w^j·ξ^(j(p^k - 1)/6); c^(p^k) is conj(c) for odd k.
_GAMMA1 = [fp2_pow(XI, j * (int(P) - 1) // 6) for j in range(6)]
_GAMMA = {
    1: _GAMMA1,
    2: [fp2_mul(g, fp2_conj(g)) for g in _GAMMA1],  # ξ^(j(p²-1)/6) = g·g^p
    3: [fp2_mul(fp2_mul(g, fp2_conj(g)), g) for g in _GAMMA1],  # g^(p² + p + 1)
}
# Positions of the coefficient of w^j in (g, h): w^0 = g0, w^1 = h0, w^2 = g1, w^3 = h1, ...
_POSITIONS = [(0, 0), (1, 0), (0, 2), (1, 2), (0, 4), (1, 4)]


def fp12_frobenius(x: Fp12, power: int) -> Fp12:
    """x^(p^power) for power 1, 2 or 3."""
    gammas = _GAMMA[power]
    out = [[_ZERO] * 6, [_ZERO] * 6]
    for j, (half, k) in enumerate(_POSITIONS):
        c0, c1 = x[half][k], x[half][k + 1]
        if power & 1:
            c1 = -c1
        g0, g1 = gammas[j]
        out[half][k] = (c0 * g0 - c1 * g1) % P
        out[half][k + 1] = (c0 * g1 + c1 * g0) % P
    g, h = out
    return ((g[0], g[1], g[2], g[3], g[4], g[5]), (h[0], h[1], h[2], h[3], h[4], h[5]))


def _fp4_sqr_raw(x0: int, x1: int, y0: int, y1: int) -> tuple[int, int, int, int]:
    """(x + y·s)² in Fp4 = Fp2[s]/(s² - ξ): (x² + ξy², 2xy), unreduced."""
    xr = (x0 + x1) * (x0 - x1)
    xi = 2 * x0 * x1
    yr = (y0 + y1) * (y0 - y1)
    yi = 2 * y0 * y1
    return (
        xr + 9 * yr - yi,
        xi + yr + 9 * yi,
        2 * (x0 * y0 - x1 * y1),
        2 * (x0 * y1 + x1 * y0),
    )


def cyclotomic_sqr(x: Fp12) -> Fp12:
    """Granger-Scott squaring, valid for elements of the cyclotomic subgroup (norm 1 over Fp6).

    Fp12 is viewed as Fp4³ with the pairs (g0, h1), (h0, g2), (g1, h2).
    """
    g, h = x
    z0r, z0i, z4r, z4i, z3r, z3i = g
    z2r, z2i, z1r, z1i, z5r, z5i = h
    t0r, t0i, t1r, t1i = _fp4_sqr_raw(z0r, z0i, z1r, z1i)
    t2r, t2i, t3r, t3i = _fp4_sqr_raw(z2r, z2i, z3r, z3i)
    t4r, t4i, t5r, t5i = _fp4_sqr_raw(z4r, z4i, z5r, z5i)
    xt5r = 9 * t5r - t5i  # ξ·t5
    xt5i = t5r + 9 * t5i
    return (
        (
            (3 * t0r - 2 * z0r) % P,
            (3 * t0i - 2 * z0i) % P,
            (3 * t2r - 2 * z4r) % P,
            (3 * t2i - 2 * z4i) % P,
            (3 * t4r - 2 * z3r) % P,
            (3 * t4i - 2 * z3i) % P,
        ),
        (
            (3 * xt5r + 2 * z2r) % P,
            (3 * xt5i + 2 * z2i) % P,
            (3 * t1r + 2 * z1r) % P,
            (3 * t1i + 2 * z1i) % P,
            (3 * t3r + 2 * z5r) % P,
            (3 * t3i + 2 * z5i) % P,
        ),
    )
