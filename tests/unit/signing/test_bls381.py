"""BLS12-381 (crypto-libs bls381) against the shared vectors byte for byte, with py-ecc as oracle.

Every case of `bls381.json` is checked: the RFC 9380 G1 hash vectors, the keys in raw and
compressed G1/G2 form, and the signatures in raw and compressed form. Properties: a signature
verifies under its key and message and under nothing else, and a flipped bit anywhere in the
signature is rejected. py-ecc (pure Python, independent of arkworks) recomputes keys and
signatures for a few random secrets.
"""

from __future__ import annotations

import hashlib
import statistics
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.bls.point_compression import modular_squareroot_in_FQ2
from py_ecc.fields import optimized_bls12_381_FQ2 as FQ2
from py_ecc.optimized_bls12_381.optimized_curve import G2 as PY_ECC_G2
from py_ecc.optimized_bls12_381.optimized_curve import (
    curve_order,
    field_modulus,
    multiply,
    normalize,
)

from executor_adapters.signing import bls381
from tests.vectors import load_vector

VECTORS = load_vector("bls381.json")
HASH_CASES = [
    (hash_set["dst"], case)
    for hash_set in VECTORS["hash_to_g1_upstream"]["sets"]
    for case in hash_set["cases"]
]
KEYS = {key["name"]: key for key in VECTORS["keys"]["cases"]}
SIGNATURE_CASES = VECTORS["signatures"]["cases"]
P = bls381.FIELD_MODULUS
R = bls381.CURVE_ORDER

SECRETS = st.integers(min_value=1, max_value=R - 1)
MESSAGES = st.binary(max_size=96)


def _signature_id(case: dict[str, Any]) -> str:
    return f"{case['key']}-{case['message_hex'][:12] or 'empty'}"


def _sk(name: str) -> bytes:
    return bytes.fromhex(KEYS[name]["sk_hex"])


# --- vectors ----------------------------------------------------------------------------------


def test_constants_match_py_ecc() -> None:
    assert (field_modulus, curve_order) == (P, R)
    assert bls381.DST == b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"


@pytest.mark.parametrize(
    ("dst", "case"), HASH_CASES, ids=[f"msg-{c['msg'][:8] or 'empty'}" for _, c in HASH_CASES]
)
def test_hash_to_g1_matches_rfc9380(dst: str, case: dict[str, Any]) -> None:
    point = bls381.hash_to_g1(case["msg"].encode(), dst.encode())
    expected = b"".join(int(c, 16).to_bytes(48, "big") for c in case["P"])
    assert bls381.g1_to_bytes(point) == expected


@pytest.mark.parametrize("key", KEYS.values(), ids=list(KEYS))
def test_public_keys_match_every_encoding(key: dict[str, Any]) -> None:
    sk = bytes.fromhex(key["sk_hex"])
    g2_raw = bls381.public_key_g2(sk)
    g1_raw = bls381.public_key_g1(sk)
    assert g2_raw.hex() == key["pubkey_g2_gnark_uncompressed_hex"]
    assert g1_raw.hex() == key["pubkey_g1_gnark_uncompressed_hex"]
    assert bls381.public_key_g2(int(key["sk_hex"], 16)) == g2_raw  # int and bytes alike
    g2 = bls381.g2_from_bytes(g2_raw)
    g1 = bls381.g1_from_bytes(g1_raw)
    assert bls381.g2_to_compressed(g2).hex() == key["pubkey_g2_compressed_hex"]
    assert bls381.g1_to_compressed(g1).hex() == key["pubkey_g1_compressed_hex"]
    compressed_g2 = bytes.fromhex(key["pubkey_g2_compressed_hex"])
    compressed_g1 = bytes.fromhex(key["pubkey_g1_compressed_hex"])
    assert bls381.g2_to_bytes(bls381.g2_from_bytes(compressed_g2)) == g2_raw
    assert bls381.g1_to_bytes(bls381.g1_from_bytes(compressed_g1)) == g1_raw


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=[_signature_id(c) for c in SIGNATURE_CASES])
def test_signatures_match_byte_for_byte(case: dict[str, Any]) -> None:
    key = KEYS[case["key"]]
    message = bytes.fromhex(case["message_hex"])
    signature = bls381.sign(bytes.fromhex(key["sk_hex"]), message)
    assert signature.hex() == case["signature_gnark_uncompressed_hex"]
    compressed = bls381.g1_to_compressed(bls381.g1_from_bytes(signature))
    assert compressed.hex() == case["signature_compressed_hex"]
    pk_raw = bytes.fromhex(key["pubkey_g2_gnark_uncompressed_hex"])
    pk_compressed = bytes.fromhex(key["pubkey_g2_compressed_hex"])
    for pk in (pk_raw, pk_compressed):
        for sig in (signature, compressed):
            assert bls381.verify(pk, message, sig)
    assert not bls381.verify(pk_raw, message + b"\x00", signature)


def test_a_signature_does_not_verify_under_another_key() -> None:
    message = b"abc"
    signature = bls381.sign(_sk("seven"), message)
    assert not bls381.verify(bls381.public_key_g2(_sk("one")), message, signature)


def test_secrets_of_any_length_are_reduced_mod_r() -> None:
    assert bls381.public_key_g2(b"\x07") == bls381.public_key_g2(_sk("seven"))
    assert bls381.public_key_g2(R + 7) == bls381.public_key_g2(7)
    long_secret = (R * 5 + 7).to_bytes(40, "big")
    assert bls381.sign(long_secret, b"m") == bls381.sign(7, b"m")
    with pytest.raises(ValueError, match="negative"):
        bls381.public_key_g2(-1)


# --- encodings --------------------------------------------------------------------------------


def test_infinity_uses_the_gnark_flag_both_ways() -> None:
    g1_inf = bls381.g1_to_bytes(bls381.G1Point.identity())
    g2_inf = bls381.g2_to_bytes(bls381.G2Point.identity())
    assert g1_inf == b"\x40" + bytes(95)
    assert g2_inf == b"\x40" + bytes(191)
    assert bls381.public_key_g2(0) == g2_inf
    assert bls381.g1_from_bytes(g1_inf) == bls381.G1Point.identity()
    assert bls381.g2_from_bytes(g2_inf) == bls381.G2Point.identity()
    # gnark also reads the all-zero affine pair as infinity
    assert bls381.g1_from_bytes(bytes(96)) == bls381.G1Point.identity()
    assert bls381.g2_from_bytes(bytes(192)) == bls381.G2Point.identity()


@pytest.mark.parametrize("length", [0, 47, 49, 64, 95, 97, 192])
def test_g1_wrong_lengths_are_refused(length: int) -> None:
    with pytest.raises(ValueError, match="G1 point is 96 or 48 bytes"):
        bls381.g1_from_bytes(bytes(length))


@pytest.mark.parametrize("length", [0, 48, 95, 97, 128, 191, 193])
def test_g2_wrong_lengths_are_refused(length: int) -> None:
    with pytest.raises(ValueError, match="G2 point is 192 or 96 bytes"):
        bls381.g2_from_bytes(bytes(length))


@pytest.mark.parametrize("flags", [0x20, 0x60, 0x80, 0xA0, 0xC0, 0xE0])
def test_raw_encodings_with_other_flags_are_refused(flags: int) -> None:
    g1 = bls381.public_key_g1(7)
    g2 = bls381.public_key_g2(7)
    with pytest.raises(ValueError, match="invalid"):
        bls381.g1_from_bytes(bytes([g1[0] | flags]) + g1[1:])
    with pytest.raises(ValueError, match="invalid"):
        bls381.g2_from_bytes(bytes([g2[0] | flags]) + g2[1:])


def test_infinity_flag_with_coordinates_is_refused() -> None:
    with pytest.raises(ValueError, match="infinity flag"):
        bls381.g1_from_bytes(b"\x40" + bytes(94) + b"\x01")
    with pytest.raises(ValueError, match="infinity flag"):
        bls381.g2_from_bytes(b"\x41" + bytes(191))


def test_coordinates_not_below_p_are_refused() -> None:
    g1 = bls381.public_key_g1(7)
    x_plus_p = (int.from_bytes(g1[:48], "big") + P).to_bytes(48, "big")
    with pytest.raises(ValueError, match="invalid G1 point"):
        bls381.g1_from_bytes(x_plus_p + g1[48:])
    g2 = bls381.public_key_g2(7)
    a1_plus_p = (int.from_bytes(g2[:48], "big") + P).to_bytes(48, "big")
    with pytest.raises(ValueError, match="invalid G2 point"):
        bls381.g2_from_bytes(a1_plus_p + g2[48:])


def test_points_off_the_curve_are_refused() -> None:
    g1 = bls381.public_key_g1(7)
    with pytest.raises(ValueError, match="invalid G1 point"):
        bls381.g1_from_bytes(g1[:-1] + bytes([g1[-1] ^ 1]))
    g2 = bls381.public_key_g2(7)
    with pytest.raises(ValueError, match="invalid G2 point"):
        bls381.g2_from_bytes(g2[:-1] + bytes([g2[-1] ^ 1]))


def _g1_outside_the_subgroup() -> bytes:
    for x in range(1, 1000):
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            return x.to_bytes(48, "big") + y.to_bytes(48, "big")
    raise AssertionError("no point found")


def _g2_outside_the_subgroup() -> bytes:
    b2 = FQ2([4, 4])
    for k in range(1, 1000):
        x = FQ2([k, 1])
        y = modular_squareroot_in_FQ2(x**3 + b2)
        if y is not None:
            words = (x.coeffs[1], x.coeffs[0], y.coeffs[1], y.coeffs[0])
            return b"".join(int(w).to_bytes(48, "big") for w in words)
    raise AssertionError("no point found")


def test_points_outside_the_prime_order_subgroup_are_refused() -> None:
    with pytest.raises(ValueError, match="subgroup"):
        bls381.g1_from_bytes(_g1_outside_the_subgroup())
    with pytest.raises(ValueError, match="subgroup"):
        bls381.g2_from_bytes(_g2_outside_the_subgroup())


def test_verify_returns_false_for_malformed_and_degenerate_input() -> None:
    pk = bls381.public_key_g2(7)
    sig = bls381.sign(7, b"m")
    assert bls381.verify(pk, b"m", sig)
    assert not bls381.verify(pk[:-1], b"m", sig)
    assert not bls381.verify(pk, b"m", sig[:-1])
    assert not bls381.verify(pk, b"m", b"\xff" * 96)
    # a key and a signature at infinity would "verify" every message; they are refused
    inf_pk = bls381.g2_to_bytes(bls381.G2Point.identity())
    inf_sig = bls381.g1_to_bytes(bls381.G1Point.identity())
    assert not bls381.verify(inf_pk, b"m", inf_sig)
    assert not bls381.verify(pk, b"m", inf_sig)


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(SECRETS, MESSAGES)
def test_sign_then_verify_round_trip(sk: int, message: bytes) -> None:
    signature = bls381.sign(sk, message)
    assert len(signature) == bls381.G1_RAW_BYTES
    assert bls381.verify(bls381.public_key_g2(sk), message, signature)


@settings(max_examples=40, deadline=None)
@given(SECRETS, MESSAGES, st.integers(min_value=0, max_value=96 * 8 - 1))
def test_a_flipped_signature_bit_is_rejected(sk: int, message: bytes, bit: int) -> None:
    signature = bytearray(bls381.sign(sk, message))
    signature[bit // 8] ^= 0x80 >> (bit % 8)
    assert not bls381.verify(bls381.public_key_g2(sk), message, bytes(signature))


@settings(max_examples=20, deadline=None)
@given(SECRETS, st.binary(min_size=1, max_size=64), st.data())
def test_a_flipped_message_bit_is_rejected(sk: int, message: bytes, data: st.DataObject) -> None:
    bit = data.draw(st.integers(min_value=0, max_value=len(message) * 8 - 1))
    signature = bls381.sign(sk, message)
    flipped = bytearray(message)
    flipped[bit // 8] ^= 0x80 >> (bit % 8)
    assert not bls381.verify(bls381.public_key_g2(sk), bytes(flipped), signature)


@settings(max_examples=4, deadline=None)
@given(SECRETS, MESSAGES)
def test_matches_py_ecc_on_random_keys(sk: int, message: bytes) -> None:
    hashed = hash_to_G1(message, bls381.DST, hashlib.sha256)  # type: ignore[arg-type]
    x, y = normalize(multiply(hashed, sk))
    assert bls381.sign(sk, message) == int(x).to_bytes(48, "big") + int(y).to_bytes(48, "big")
    px, py = normalize(multiply(PY_ECC_G2, sk))
    words = (px.coeffs[1], px.coeffs[0], py.coeffs[1], py.coeffs[0])
    assert bls381.public_key_g2(sk) == b"".join(int(w).to_bytes(48, "big") for w in words)


def test_signing_is_fast() -> None:
    """Native arkworks signs in about 0.25 ms; the bound leaves room for slow CI machines."""
    scalar = bls381.scalar_of(_sk("eip2335-test-secret"))
    message = bytes(32)
    bls381.sign_with_scalar(scalar, message)
    times = []
    for _ in range(50):
        start = time.perf_counter()
        bls381.sign_with_scalar(scalar, message)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.005
