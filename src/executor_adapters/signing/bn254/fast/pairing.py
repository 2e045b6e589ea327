"""The optimal ate pairing on BN254, with precomputed lines for fixed G2 points.

e(P, Q) = f_{6u+2,Q}(P) · l_{T,π(Q)}(P) · l_{T+π(Q),-π²(Q)}(P), raised to (p¹² - 1)/r.

Lines are computed once per G2 point (`prepare_g2`, affine arithmetic on the twist, one Fp2
inversion per step) as pairs (λ, λ·x_T - y_T). Evaluated at P = (x_P, y_P) the untwisted line is
`y_P - λ·x_P·w + (λ·x_T - y_T)·w³`; dividing it by y_P (an Fp factor, which the final
exponentiation removes) leaves `1 + b·w + c·w³`, a sparse element that `fp12_mul_line`
multiplies in cheaply. The loop runs over the NAF of 6u + 2 (22 non-zero digits).

`multi_miller_loop` evaluates several pairings with shared squarings of the accumulator, and a
single `final_exponentiation` follows: its easy part uses the p⁶ and p² Frobenius, its hard part
the BN addition chain of Scott et al. (three exponentiations by u with cyclotomic squarings),
which gives exactly f^((p⁴ - p² + 1)/r), so results equal py-ecc's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from executor_adapters.signing.bn254.fast.field import (
    Fp2,
    P,
    U,
    fp2_inv,
    fp2_mul,
    fp2_sqr,
    fp2_sub,
    invert,
)
from executor_adapters.signing.bn254.fast.g1 import G1Affine, wnaf
from executor_adapters.signing.bn254.fast.g2 import G2Affine, g2_neg, g2_psi
from executor_adapters.signing.bn254.fast.tower import (
    FP12_ONE,
    Fp12,
    cyclotomic_sqr,
    fp12_conj,
    fp12_frobenius,
    fp12_inv,
    fp12_mul,
    fp12_mul_line,
    fp12_sqr,
)

__all__ = [
    "PreparedG2",
    "final_exponentiation",
    "multi_miller_loop",
    "pairing",
    "pairing_product_is_one",
    "prepare_g2",
]

_Line: TypeAlias = tuple[int, int, int, int]
"""(λ.re, λ.im, (λ·x_T - y_T).re, (λ·x_T - y_T).im)."""
PreparedG2: TypeAlias = tuple[_Line, ...]

# NAF of 6u + 2, most significant digit first, without the leading 1.
_ATE_DIGITS = list(reversed(wnaf(6 * U + 2, 2)))[1:]
# One entry per line: square the accumulator before multiplying this line in? Doubling lines
# are preceded by a squaring, except the very first (the accumulator is still 1).
_SQUARE_FIRST: list[bool] = []
for _d in _ATE_DIGITS:
    _SQUARE_FIRST.append(bool(_SQUARE_FIRST))
    if _d:
        _SQUARE_FIRST.append(False)
_SQUARE_FIRST += [False, False]  # the two Frobenius lines


def _line(lam: Fp2, t: G2Affine) -> _Line:
    c = fp2_sub(fp2_mul(lam, t[0]), t[1])
    return lam[0], lam[1], c[0], c[1]


def _add_step(t: G2Affine, q: G2Affine) -> tuple[_Line, G2Affine]:
    """The line through T and Q (T ≠ ±Q), and T + Q."""
    (x1, y1), (x2, y2) = t, q
    if x1 == x2:
        raise ValueError("degenerate Miller-loop addition (the G2 point is not in G2)")
    lam = fp2_mul(fp2_sub(y2, y1), fp2_inv(fp2_sub(x2, x1)))
    x3 = fp2_sub(fp2_sub(fp2_sqr(lam), x1), x2)
    return _line(lam, t), (x3, fp2_sub(fp2_mul(lam, fp2_sub(x1, x3)), y1))


def _double_step(t: G2Affine) -> tuple[_Line, G2Affine]:
    """The tangent line at T, and 2T."""
    x1, y1 = t
    if not any(y1):
        raise ValueError("degenerate Miller-loop doubling (the G2 point is not in G2)")
    xx = fp2_sqr(x1)
    lam = fp2_mul((3 * xx[0] % P, 3 * xx[1] % P), fp2_inv((2 * y1[0] % P, 2 * y1[1] % P)))
    x3 = fp2_sub(fp2_sqr(lam), (2 * x1[0], 2 * x1[1]))
    return _line(lam, t), (x3, fp2_sub(fp2_mul(lam, fp2_sub(x1, x3)), y1))


def prepare_g2(q: G2Affine) -> PreparedG2:
    """Line coefficients of the Miller loop for the (subgroup-checked, finite) point Q."""
    minus_q = g2_neg(q)
    assert minus_q is not None
    lines: list[_Line] = []
    t = q
    for digit in _ATE_DIGITS:
        line, t = _double_step(t)
        lines.append(line)
        if digit:
            line, t = _add_step(t, q if digit > 0 else minus_q)
            lines.append(line)
    q1 = g2_psi(q)
    q2 = g2_neg(g2_psi(q1))
    assert q2 is not None
    line, t = _add_step(t, q1)
    lines.append(line)
    lines.append(_add_step(t, q2)[0])
    return tuple(lines)


def multi_miller_loop(pairs: Sequence[tuple[G1Affine | None, PreparedG2]]) -> Fp12:
    """Π f_Q(P) over the pairs, sharing the squarings; pairs with P = O contribute 1."""
    evaluations = []
    for point, lines in pairs:
        if point is None:
            continue
        x, y = point
        inv_y = invert(y, P)
        evaluations.append((-x * inv_y % P, inv_y, lines))
    f = FP12_ONE
    for index, square in enumerate(_SQUARE_FIRST):
        if square:
            f = fp12_sqr(f)
        for neg_x, inv_y, lines in evaluations:
            l0, l1, c0, c1 = lines[index]
            f = fp12_mul_line(f, l0 * neg_x % P, l1 * neg_x % P, c0 * inv_y % P, c1 * inv_y % P)
    return f


_U_DIGITS = list(reversed(wnaf(U, 2)))[1:]


def _cyclotomic_pow_u(a: Fp12) -> Fp12:
    """a^u for a in the cyclotomic subgroup (NAF of u; the inverse there is the conjugate)."""
    a_inv = fp12_conj(a)
    result = a
    for digit in _U_DIGITS:
        result = cyclotomic_sqr(result)
        if digit > 0:
            result = fp12_mul(result, a)
        elif digit < 0:
            result = fp12_mul(result, a_inv)
    return result


def final_exponentiation(f: Fp12) -> Fp12:
    """f^((p¹² - 1)/r) = (f^((p⁶ - 1)(p² + 1)))^((p⁴ - p² + 1)/r)."""
    t = fp12_mul(fp12_conj(f), fp12_inv(f))
    t = fp12_mul(fp12_frobenius(t, 2), t)
    # Hard part (Scott, Benger, Charlemagne, Dominguez Perez, Kachisa 2009), as in go-ethereum's
    # bn256: f^λ0 · (f^p)^λ1 · (f^p²)^λ2 · (f^p³)^λ3 with the λi polynomials in u.
    fp = fp12_frobenius(t, 1)
    fp2 = fp12_frobenius(t, 2)
    fp3 = fp12_frobenius(fp2, 1)
    fu = _cyclotomic_pow_u(t)
    fu2 = _cyclotomic_pow_u(fu)
    fu3 = _cyclotomic_pow_u(fu2)
    y0 = fp12_mul(fp12_mul(fp, fp2), fp3)
    y1 = fp12_conj(t)
    y2 = fp12_frobenius(fu2, 2)
    y3 = fp12_conj(fp12_frobenius(fu, 1))
    y4 = fp12_conj(fp12_mul(fu, fp12_frobenius(fu2, 1)))
    y5 = fp12_conj(fu2)
    y6 = fp12_conj(fp12_mul(fu3, fp12_frobenius(fu3, 1)))
    t0 = fp12_mul(fp12_mul(cyclotomic_sqr(y6), y4), y5)
    t1 = fp12_mul(fp12_mul(y3, y5), t0)
    t0 = fp12_mul(t0, y2)
    t1 = cyclotomic_sqr(fp12_mul(cyclotomic_sqr(t1), t0))
    t0 = fp12_mul(t1, y1)
    t1 = fp12_mul(t1, y0)
    return fp12_mul(cyclotomic_sqr(t0), t1)


def pairing(p: G1Affine | None, q: PreparedG2) -> Fp12:
    """e(P, Q) for a prepared Q."""
    return final_exponentiation(multi_miller_loop([(p, q)]))


def pairing_product_is_one(pairs: Sequence[tuple[G1Affine | None, PreparedG2]]) -> bool:
    """Π e(Pᵢ, Qᵢ) == 1, with one Miller loop and one final exponentiation."""
    return final_exponentiation(multi_miller_loop(pairs)) == FP12_ONE
