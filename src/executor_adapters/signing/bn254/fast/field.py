"""BN254 constants, the base field Fp and its quadratic extension Fp2 = Fp[i]/(i² + 1).

All arithmetic is on gmpy2 `mpz` integers: GMP's multiplication and reduction of 254-bit numbers
is several times faster than CPython's, and `invert`/`legendre`/`powmod` are native. mypy sees
the values as `int` (mpz supports the same operators, and `int(x)` converts back); gmpy2 ships
no type stubs, so it is imported in this module only.

An Fp element is an mpz in [0, p). An Fp2 element `a0 + a1·i` is the tuple `(a0, a1)`.
Functions return reduced values; callers that chain many operations inline the formulas and
reduce once (lazy reduction), see `tower.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import gmpy2  # type: ignore[import-untyped]

__all__ = [
    "B2",
    "FP2_ONE",
    "FP2_ZERO",
    "SQRT_EXPONENT",
    "XI",
    "Fp2",
    "P",
    "R",
    "U",
    "fp2_add",
    "fp2_conj",
    "fp2_inv",
    "fp2_mul",
    "fp2_mul_fp",
    "fp2_neg",
    "fp2_pow",
    "fp2_sqr",
    "fp2_sub",
    "invert",
    "legendre",
    "mpz",
    "powmod",
]

mpz: Callable[[int], int] = gmpy2.mpz
powmod: Callable[[int, int, int], int] = gmpy2.powmod
invert: Callable[[int, int], int] = gmpy2.invert
legendre: Callable[[int, int], int] = gmpy2.legendre

U = 4965661367192848881
"""The BN parameter u (x₀): p = 36u⁴ + 36u³ + 24u² + 6u + 1, r = 36u⁴ + 36u³ + 18u² + 6u + 1."""

P = mpz(36 * U**4 + 36 * U**3 + 24 * U**2 + 6 * U + 1)
R = mpz(36 * U**4 + 36 * U**3 + 18 * U**2 + 6 * U + 1)
SQRT_EXPONENT = mpz((P + 1) // 4)
"""p ≡ 3 (mod 4): β^((p+1)/4) is a square root of every square β."""

Fp2: TypeAlias = tuple[int, int]

FP2_ZERO: Fp2 = (mpz(0), mpz(0))
FP2_ONE: Fp2 = (mpz(1), mpz(0))
XI: Fp2 = (mpz(9), mpz(1))
"""ξ = 9 + i, the non-residue of the tower: Fp6 = Fp2[v]/(v³ - ξ), Fp12 = Fp6[w]/(w² - v)."""


def fp2_add(a: Fp2, b: Fp2) -> Fp2:
    return ((a[0] + b[0]) % P, (a[1] + b[1]) % P)


def fp2_sub(a: Fp2, b: Fp2) -> Fp2:
    return ((a[0] - b[0]) % P, (a[1] - b[1]) % P)


def fp2_neg(a: Fp2) -> Fp2:
    return (-a[0] % P, -a[1] % P)


def fp2_conj(a: Fp2) -> Fp2:
    """The Frobenius a ↦ a^p of Fp2, i.e. complex conjugation."""
    return (a[0], -a[1] % P)


def fp2_mul(a: Fp2, b: Fp2) -> Fp2:
    a0, a1 = a
    b0, b1 = b
    return ((a0 * b0 - a1 * b1) % P, (a0 * b1 + a1 * b0) % P)


def fp2_mul_fp(a: Fp2, k: int) -> Fp2:
    return (a[0] * k % P, a[1] * k % P)


def fp2_sqr(a: Fp2) -> Fp2:
    a0, a1 = a
    return ((a0 + a1) * (a0 - a1) % P, 2 * a0 * a1 % P)


def fp2_inv(a: Fp2) -> Fp2:
    """1/a via the norm a0² + a1² ∈ Fp; raises ZeroDivisionError for zero."""
    a0, a1 = a
    t = invert((a0 * a0 + a1 * a1) % P, P)
    return (a0 * t % P, -a1 * t % P)


def fp2_pow(a: Fp2, e: int) -> Fp2:
    result = FP2_ONE
    base = a
    while e:
        if e & 1:
            result = fp2_mul(result, base)
        base = fp2_sqr(base)
        e >>= 1
    return result


B2: Fp2 = fp2_mul((mpz(3), mpz(0)), fp2_inv(XI))
"""b' = 3/ξ of the D-type sextic twist E': y² = x³ + b' that carries G2."""
