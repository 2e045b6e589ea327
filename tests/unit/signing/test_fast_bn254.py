"""`fast_bn254` against py-ecc, the oracle: the same points, bytes, pairings and verdicts.

Cheap py-ecc operations (G1/G2 multiplications, Fp12 products, hashes) are compared on random
inputs with hypothesis. py-ecc pairings cost 0.2-0.5 s each, so only a fixed handful run here
(`PY_ECC_PAIRINGS` counts them: 2 final exponentiations, 2 pairings, 4 reference verifications);
the other pairing properties (bilinearity, multi-pairing, verify accepting and rejecting) are
checked on the fast code alone.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.fields import optimized_bn128_FQ2 as FQ2
from py_ecc.fields import optimized_bn128_FQ12 as FQ12
from py_ecc.optimized_bn128.optimized_curve import G2 as PY_G2
from py_ecc.optimized_bn128.optimized_curve import is_inf, multiply
from py_ecc.optimized_bn128.optimized_pairing import final_exponentiate
from py_ecc.optimized_bn128.optimized_pairing import pairing as py_pairing

from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.bn254 import fast as fast_bn254
from executor_adapters.signing.bn254.fast import g1, g2, hashing, pairing, tower
from executor_adapters.signing.bn254.fast.field import (
    B2,
    P,
    R,
    fp2_add,
    fp2_mul,
    fp2_pow,
    fp2_sqr,
    mpz,
)
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_adapters.signing.keccak import keccak256
from tests.oracles import bn254_reference as reference

PY_ECC_PAIRINGS = 8
p, r = int(P), int(R)
(A1, B1), (A2, B2_GLV) = g1._glv_basis()

# Scalars at the edges of the group and of the GLV decomposition: where k1 or k2 is extreme,
# where the rounding of c1 = round(b2·k/r) flips, and around λ and powers of two.
_LAMBDA = int(g1.LAMBDA)
EDGE_SCALARS = sorted(
    {0, 1, 2, 3, 15, 16, 17, r - 1, r, r + 1, 2 * r - 1, _LAMBDA, _LAMBDA - 1, _LAMBDA + 1}
    | {r - _LAMBDA, 2**127 - 1, 2**127, 2**128, 2**128 + 1, 2**254 - 1, 2**256 - 1}
    | {abs(A1), abs(B1), abs(A2), abs(B2_GLV), abs(A1) + abs(A2), (r + 1) // 2}
    | {(r * (2 * m + 1)) // (2 * B2_GLV) + d for m in (1, 12345, 2**60) for d in (0, 1)}
)
SCALARS = st.one_of(st.sampled_from(EDGE_SCALARS), st.integers(0, 2**256))
SECRETS = st.integers(1, r - 1)
DIGESTS = st.binary(min_size=32, max_size=32)
FP = st.integers(0, p - 1)


def _fp12(c: list[int]) -> tower.Fp12:
    g0, g1_, g2_, g3, g4, g5, h0, h1, h2, h3, h4, h5 = (mpz(v) for v in c)
    return (g0, g1_, g2_, g3, g4, g5), (h0, h1, h2, h3, h4, h5)


def _random_fp12(rng: random.Random) -> tower.Fp12:
    return _fp12([rng.randrange(p) for _ in range(12)])


FP12S = st.lists(FP, min_size=12, max_size=12).map(_fp12)


def _g1_point(seed: bytes) -> g1.G1Affine:
    return hashing.solidity_hash_to_g1(keccak256(seed))


def _py_g1(point: g1.G1Affine | None) -> Any:
    return reference.g1_from_bytes(fast_bn254.g1_encode(point))


# Coefficient of w^j of an Fp12 element in the (g, h) layout.
_POSITIONS = [(0, 0), (1, 0), (0, 2), (1, 2), (0, 4), (1, 4)]


def _to_py_fq12(x: tower.Fp12) -> Any:
    """py-ecc's FQ12 is Fp[w]/(w¹² - 18w⁶ + 82): there w⁶ = ξ = 9 + i, so i = w⁶ - 9."""
    coeffs = [0] * 12
    for j, (half, k) in enumerate(_POSITIONS):
        re, im = int(x[half][k]), int(x[half][k + 1])
        coeffs[j] += re - 9 * im
        coeffs[j + 6] += im
    return FQ12([c % p for c in coeffs])


def _fp12_pow(x: tower.Fp12, e: int) -> tower.Fp12:
    result = tower.FP12_ONE
    for bit in bin(e)[2:]:
        result = tower.fp12_sqr(result)
        if bit == "1":
            result = tower.fp12_mul(result, x)
    return result


def _cyclotomic(x: tower.Fp12) -> tower.Fp12:
    """x^((p⁶ - 1)(p² + 1)), an element of the cyclotomic subgroup."""
    t = tower.fp12_mul(tower.fp12_conj(x), tower.fp12_inv(x))
    return tower.fp12_mul(tower.fp12_frobenius(t, 2), t)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


# --- constants and scalar decomposition -------------------------------------------------------


def test_constants_match_the_reference() -> None:
    assert (p, r) == (bn254.FIELD_MODULUS, bn254.CURVE_ORDER)
    assert pow(int(g1.BETA), 3, p) == 1 != int(g1.BETA)
    assert pow(_LAMBDA, 3, r) == 1 != _LAMBDA
    phi = (g1.BETA * g1.G1_GENERATOR[0] % P, g1.G1_GENERATOR[1])
    assert g1.g1_mul(g1.G1_GENERATOR, _LAMBDA) == phi
    svdw = (hashing._C1, hashing._C2, hashing._C3, hashing._C4)
    assert svdw == (reference._SVDW_C1, reference._SVDW_C2, reference._SVDW_C3, reference._SVDW_C4)
    assert fp2_mul(B2, (mpz(9), mpz(1))) == (3, 0)


@settings(max_examples=300)
@given(SCALARS)
def test_glv_split_is_a_short_decomposition(k: int) -> None:
    k1, k2 = g1.glv_split(k)
    assert (k1 + k2 * _LAMBDA - k) % r == 0
    assert abs(k1) < 2**128
    assert abs(k2) < 2**128


@settings(max_examples=200)
@given(st.integers(0, 2**300), st.integers(2, 6))
def test_wnaf_digits_rebuild_the_scalar(k: int, width: int) -> None:
    digits = g1.wnaf(k, width)
    assert sum(d << i for i, d in enumerate(digits)) == k
    assert all(d == 0 or (d & 1 and abs(d) < 2 ** (width - 1)) for d in digits)
    nonzero = [i for i, d in enumerate(digits) if d]
    assert all(b - a >= width for a, b in itertools.pairwise(nonzero))


# --- group arithmetic against py-ecc ----------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=16), SCALARS)
def test_g1_multiplication_matches_py_ecc(seed: bytes, k: int) -> None:
    point = _g1_point(seed)
    expected = reference.g1_to_bytes(multiply(_py_g1(point), k % r))
    assert fast_bn254.g1_encode(g1.g1_mul(point, k)) == expected
    assert fast_bn254.g1_encode(g1.generator_mul(k)) == reference.reference_public_key_g1(k % r)


@settings(max_examples=12, deadline=None)
@given(st.one_of(st.sampled_from(EDGE_SCALARS), SECRETS))
def test_g2_public_keys_match_py_ecc(k: int) -> None:
    expected = reference.reference_public_key_g2(k % r)
    assert fast_bn254.public_key_g2(k) == expected
    assert fast_bn254.g2_encode(g2.g2_mul(g2.G2_GENERATOR, k)) == expected


def test_affine_addition_handles_doubling_and_opposites() -> None:
    point = _g1_point(b"a")
    assert g1.g1_add_affine(point, point) == g1.g1_mul(point, 2)
    assert g1.g1_add_affine(point, g1.g1_neg(point)) is None
    assert g1.g1_add_affine(None, point) == point
    q = g2.g2_generator_mul(5)
    assert g2.g2_add_affine(q, q) == g2.g2_generator_mul(10)
    assert g2.g2_add_affine(q, g2.g2_neg(q)) is None


def test_psi_is_multiplication_by_p_on_g2() -> None:
    q = g2.g2_generator_mul(123456789)
    assert q is not None
    assert g2.g2_psi(q) == g2.g2_mul(q, p % r)


# --- hashing ----------------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.one_of(DIGESTS, st.sampled_from([bytes(32), b"\xff" * 32, P.to_bytes(32, "big")])))
def test_solidity_hash_matches_reference(digest: bytes) -> None:
    expected = reference.g1_to_bytes(reference.solidity_hash_to_g1(digest))
    assert fast_bn254.g1_encode(hashing.solidity_hash_to_g1(digest)) == expected


@settings(max_examples=100)
@given(st.binary(max_size=200), st.binary(min_size=1, max_size=255))
def test_rfc9380_hash_matches_reference(msg: bytes, dst: bytes) -> None:
    expected = reference.g1_to_bytes(reference.rfc9380_hash_to_g1(msg, dst))
    assert fast_bn254.g1_encode(hashing.rfc9380_hash_to_g1(msg, dst)) == expected
    (u,) = hashing.hash_to_field(msg, dst, 1)
    encoded = reference.g1_to_bytes(reference.rfc9380_encode_to_g1(msg, dst))
    assert fast_bn254.g1_encode(hashing.rfc9380_encode_to_g1(msg, dst)) == encoded
    assert hashing.map_to_curve_svdw(u) == reference.map_to_curve_svdw(int(u))


HALF = pow(2, -1, p)  # u = ±1/2 makes tv1·tv2 = 0, the inv0 case


@settings(max_examples=200)
@given(st.one_of(FP, st.sampled_from([0, 1, 2, p - 1, HALF, p - HALF])))
def test_svdw_map_matches_reference(u: int) -> None:
    assert hashing.map_to_curve_svdw(u) == reference.map_to_curve_svdw(u)


def test_solidity_hash_needs_32_bytes() -> None:
    with pytest.raises(ValueError, match="32-byte digest"):
        fast_bn254.solidity_hash_to_g1(bytes(31))
    with pytest.raises(ValueError, match="32-byte digest"):
        fast_bn254.verify_solidity(fast_bn254.public_key_g2(1), bytes(33), bytes(64))


# --- tower arithmetic against py-ecc ----------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(FP12S, FP12S)
def test_fp12_arithmetic_matches_py_ecc(a: tower.Fp12, b: tower.Fp12) -> None:
    pa, pb = _to_py_fq12(a), _to_py_fq12(b)
    assert _to_py_fq12(tower.fp12_mul(a, b)) == pa * pb
    assert _to_py_fq12(tower.fp12_sqr(a)) == pa * pa
    if any(any(half) for half in a):
        assert _to_py_fq12(tower.fp12_mul(tower.fp12_inv(a), a)) == FQ12.one()
    frob = tower.fp12_frobenius(a, 1)
    assert tower.fp12_frobenius(a, 2) == tower.fp12_frobenius(frob, 1)
    assert tower.fp12_frobenius(a, 3) == tower.fp12_frobenius(tower.fp12_frobenius(a, 2), 1)
    assert tower.fp12_mul(tower.fp12_frobenius(a, 1), tower.fp12_frobenius(b, 1)) == (
        tower.fp12_frobenius(tower.fp12_mul(a, b), 1)
    )


def test_frobenius_is_the_p_power() -> None:
    rng = random.Random(7)
    a = _random_fp12(rng)
    assert _to_py_fq12(tower.fp12_frobenius(a, 1)) == _to_py_fq12(a) ** p


@settings(max_examples=30, deadline=None)
@given(FP12S, st.lists(FP, min_size=4, max_size=4))
def test_line_product_and_cyclotomic_squaring(a: tower.Fp12, line: list[int]) -> None:
    b0, b1, c0, c1 = (mpz(v) for v in line)
    zero = mpz(0)
    dense = ((mpz(1), zero, zero, zero, zero, zero), (b0, b1, c0, c1, zero, zero))
    assert tower.fp12_mul_line(a, b0, b1, c0, c1) == tower.fp12_mul(a, dense)
    if any(any(half) for half in a):
        c = _cyclotomic(a)
        assert tower.cyclotomic_sqr(c) == tower.fp12_sqr(c)


# --- pairing ----------------------------------------------------------------------------------


def test_final_exponentiation_matches_py_ecc() -> None:
    rng = random.Random(11)
    for _ in range(2):  # 2 of PY_ECC_PAIRINGS
        a = _random_fp12(rng)
        mine = pairing.final_exponentiation(a)
        assert _to_py_fq12(mine) == final_exponentiate(_to_py_fq12(a))


def test_pairing_matches_py_ecc() -> None:
    for a, b in ((1, 1), (0xDEADBEEF, 2**200 + 7)):  # 2 of PY_ECC_PAIRINGS
        point = g1.generator_mul(a)
        q = g2.g2_generator_mul(b)
        assert q is not None
        mine = pairing.pairing(point, pairing.prepare_g2(q))
        assert _to_py_fq12(mine) == py_pairing(multiply(PY_G2, b), _py_g1(point))


@settings(max_examples=6, deadline=None)
@given(st.integers(1, 2**16), st.integers(1, 2**16))
def test_pairing_is_bilinear_and_non_degenerate(a: int, b: int) -> None:
    point = _g1_point(b"bilinear")
    q = g2.g2_generator_mul(99)
    assert q is not None
    base = pairing.pairing(point, pairing.prepare_g2(q))
    assert base != tower.FP12_ONE
    assert _fp12_pow(base, r) == tower.FP12_ONE
    qb = g2.g2_mul(q, b)
    assert qb is not None
    assert pairing.pairing(g1.g1_mul(point, a), pairing.prepare_g2(qb)) == _fp12_pow(base, a * b)


@settings(max_examples=5, deadline=None)
@given(st.integers(2, r - 1))
def test_multi_pairing_checks_a_product(a: int) -> None:
    point = _g1_point(b"multi")
    q = g2.g2_generator_mul(a)
    assert q is not None
    lines_a, lines_1 = pairing.prepare_g2(q), pairing.prepare_g2(g2.G2_GENERATOR)
    minus_point = g1.g1_neg(point)
    assert pairing.pairing_product_is_one([(g1.g1_mul(point, a), lines_1), (minus_point, lines_a)])
    assert not pairing.pairing_product_is_one([(point, lines_1), (minus_point, lines_a)])
    assert pairing.pairing_product_is_one([(None, lines_a)])


# --- signing and verification -----------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(SCALARS, DIGESTS, st.binary(max_size=100))
def test_signatures_match_the_reference(sk: int, digest: bytes, msg: bytes) -> None:
    assert fast_bn254.sign_solidity(sk, digest) == reference.reference_sign_solidity(sk, digest)
    assert fast_bn254.sign(sk, msg) == reference.reference_sign(sk, msg)
    assert bn254.sign_solidity(sk, digest) == reference.reference_sign_solidity(sk, digest)


@settings(max_examples=20, deadline=None)
@given(SECRETS, DIGESTS, st.binary(max_size=64), st.integers(0, 2**16))
def test_verify_accepts_valid_signatures_and_rejects_flipped_bits(
    sk: int, digest: bytes, msg: bytes, bit: int
) -> None:
    pk = fast_bn254.public_key_g2(sk)
    sol, rfc = fast_bn254.sign_solidity(sk, digest), fast_bn254.sign(sk, msg)
    assert fast_bn254.verify_solidity(pk, digest, sol)
    assert fast_bn254.verify(pk, msg, rfc)
    flipped = _flip(digest, bit)
    # try-and-increment maps some neighbouring digests to one point (0 and 1 both give (1, 2))
    if fast_bn254.solidity_hash_to_g1(flipped) != fast_bn254.solidity_hash_to_g1(digest):
        assert not fast_bn254.verify_solidity(pk, flipped, sol)
    assert not fast_bn254.verify_solidity(pk, digest, _flip(sol, bit))
    assert not fast_bn254.verify(pk, msg + b"\x00", rfc)
    assert not fast_bn254.verify(pk, msg, _flip(rfc, bit))
    assert not fast_bn254.verify(_flip(pk, bit), msg, rfc)
    assert not fast_bn254.verify(pk, msg, rfc, dst=b"another DST")
    assert not fast_bn254.verify(pk, digest, sol)  # the two hash-to-G1 are not interchangeable


def test_verify_agrees_with_the_reference() -> None:
    sk, other = 0x1234567, 0x7654321
    pk = fast_bn254.public_key_g2(sk)
    digest, msg = keccak256(b"output"), b"payload"
    cases: list[tuple[Callable[..., bool], Callable[..., bool], tuple[bytes, ...], bool]] = [
        # 4 of PY_ECC_PAIRINGS
        (bn254.verify, reference.reference_verify, (pk, msg, fast_bn254.sign(sk, msg)), True),
        (
            bn254.verify,
            reference.reference_verify,
            (pk, msg + b"!", fast_bn254.sign(sk, msg)),
            False,
        ),
        (
            bn254.verify_solidity,
            reference.reference_verify_solidity,
            (pk, digest, fast_bn254.sign_solidity(sk, digest)),
            True,
        ),
        (
            bn254.verify_solidity,
            reference.reference_verify_solidity,
            (pk, digest, fast_bn254.sign_solidity(other, digest)),
            False,
        ),
    ]
    for fast, oracle, args, expected in cases:
        assert fast(*args) is expected
        assert oracle(*args) is expected


def test_verify_refuses_malformed_and_identity_inputs() -> None:
    pk, digest = fast_bn254.public_key_g2(5), bytes(32)
    signature = fast_bn254.sign_solidity(5, digest)
    assert not fast_bn254.verify_solidity(bytes(128), digest, bytes(64))
    assert not fast_bn254.verify_solidity(pk[:64], digest, signature)
    assert not fast_bn254.verify_solidity(pk, digest, signature[:63])
    assert not fast_bn254.verify_solidity(pk, digest, bytes(64))  # the identity signature
    with pytest.raises(ValueError, match="negative"):
        fast_bn254.sign_solidity(-1, digest)
    assert fast_bn254.sign_solidity(r, digest) == bytes(64)


def test_public_key_preparation_is_cached_per_key() -> None:
    pk = fast_bn254.public_key_g2(77)
    first = fast_bn254.prepared_public_key(pk)
    assert first is not None
    assert fast_bn254.prepared_public_key(bytes(pk)) is first
    assert fast_bn254.prepared_public_key(bytes(128)) is None
    assert fast_bn254.prepared_public_key(_flip(pk, 5)) is None


# --- encodings --------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(SCALARS)
def test_encodings_round_trip(k: int) -> None:
    g1_bytes = fast_bn254.public_key_g1(k)
    assert fast_bn254.g1_encode(fast_bn254.g1_decode(g1_bytes)) == g1_bytes
    assert reference.g1_to_bytes(reference.g1_from_bytes(g1_bytes)) == g1_bytes
    g2_bytes = fast_bn254.public_key_g2(k)
    assert fast_bn254.g2_encode(fast_bn254.g2_decode(g2_bytes)) == g2_bytes


def _error(decode: Any, data: bytes) -> str | None:
    try:
        decode(data)
    except ValueError as exc:
        return str(exc)
    return None


@settings(max_examples=60, deadline=None)
@given(st.integers(1, r - 1), st.integers(0, 1023), st.binary(max_size=130))
def test_decoders_reject_what_the_reference_rejects(k: int, bit: int, noise: bytes) -> None:
    g1_bytes, g2_bytes = fast_bn254.public_key_g1(k), fast_bn254.public_key_g2(k % 1000 + 1)
    for data in (_flip(g1_bytes, bit), noise, g1_bytes[:63]):
        assert _error(fast_bn254.g1_decode, data) == _error(reference.g1_from_bytes, data)
    for data in (_flip(g2_bytes, bit), noise, g2_bytes + b"\x00"):
        assert _error(fast_bn254.g2_decode, data) == _error(reference.g2_from_bytes, data)


def _fp2_sqrt(a: tuple[int, int]) -> tuple[int, int] | None:
    """A square root in Fp2 (p ≡ 3 mod 4, Adj & Rodríguez-Henríquez algorithm 9), or None."""
    a1 = fp2_pow(a, (p - 3) // 4)
    alpha = fp2_mul(fp2_sqr(a1), a)
    x0 = fp2_mul(a1, a)
    if alpha == (p - 1, 0):
        candidate = fp2_mul((mpz(0), mpz(1)), x0)
    else:
        candidate = fp2_mul(fp2_pow(fp2_add((mpz(1), mpz(0)), alpha), (p - 1) // 2), x0)
    return candidate if fp2_sqr(candidate) == a else None


def test_twist_points_outside_the_subgroup_are_refused() -> None:
    for x0 in range(1, 100):
        x = (mpz(x0), mpz(1))
        y = _fp2_sqrt(fp2_add(fp2_mul(fp2_sqr(x), x), B2))
        if y is not None:
            break
    else:
        raise AssertionError("no twist point found")
    assert g2.g2_is_on_curve(x, y)
    assert not g2.g2_in_subgroup((x, y))
    encoded = fast_bn254.g2_encode((x, y))
    assert _error(fast_bn254.g2_decode, encoded) == _error(reference.g2_from_bytes, encoded)
    assert "subgroup" in (_error(fast_bn254.g2_decode, encoded) or "")
    # py-ecc agrees that r·Q is not the identity.
    py_point = (FQ2([int(x[0]), int(x[1])]), FQ2([int(y[0]), int(y[1])]), FQ2.one())
    assert not is_inf(multiply(py_point, r))


# --- the result signer ------------------------------------------------------------------------


@pytest.mark.parametrize(("native", "on_the_loop"), [(False, False), (True, True)])
async def test_the_signer_runs_pure_python_off_the_loop_and_native_code_on_it(
    monkeypatch: pytest.MonkeyPatch, native: bool, on_the_loop: bool
) -> None:
    """Pure Python holds the GIL for 0.3-0.6 ms: a crypto thread. Native code takes 0.1 ms:
    cheaper on the loop than the thread switches of a hand-off."""
    assert Bn254ResultSigner is Bn254ResultSigner
    if native and not bn254.backend_is_native():
        pytest.skip("the native BN254 library is not built (scripts/build-native.sh)")
    if not native:
        monkeypatch.setattr(bn254, "_native", None)
    threads: list[int] = []
    original = bn254.sign_solidity

    def recording(sk: int, digest: bytes) -> bytes:
        threads.append(threading.get_ident())
        return original(sk, digest)

    monkeypatch.setattr(bn254, "sign_solidity", recording)
    signer = Bn254ResultSigner((12345).to_bytes(32, "big"))
    signature = await signer.sign_result(b"output")
    assert threads
    assert (threads[0] == threading.get_ident()) is on_the_loop
    assert signature == reference.reference_sign_solidity(12345, keccak256(b"output"))
    assert "Bn254ResultSigner(" in repr(signer)
