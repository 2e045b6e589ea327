"""secp256k1 ECDSA (crypto-libs `ecdsa`, go-ethereum `crypto.Sign`) against the shared vectors.

Every case of `ecdsa_secp256k1.json`: the go-ethereum recovery vector, the upstream key → address
(and public key) pairs, and the RFC 6979 signatures over keccak256 of messages, byte for byte.
Properties: sign → recover gives the signer's address, v is 27 or 28, s is never high, and a
signature is deterministic.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
from coincurve import PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from executor_adapters.signing import ecdsa
from executor_adapters.signing.keccak import keccak256
from tests.vectors import load_vector

VECTORS = load_vector("ecdsa_secp256k1.json")
RECOVERY = VECTORS["upstream_recovery_vector"]
KEY_ADDRESS_CASES = VECTORS["upstream_key_address_vectors"]["cases"]
SIGNATURE_CASES = VECTORS["signatures"]["cases"]
N = ecdsa.CURVE_ORDER

SECRETS = st.integers(min_value=1, max_value=N - 1).map(lambda k: k.to_bytes(32, "big"))
HASHES = st.binary(min_size=32, max_size=32)


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['priv_hex'][:8]}-{case['message_hex'][:12] or 'empty'}"


# --- vectors ----------------------------------------------------------------------------------


def test_recovers_the_go_ethereum_vector_with_v_0_1_and_27_28() -> None:
    digest = bytes.fromhex(RECOVERY["hash_hex"])
    raw = bytes.fromhex(RECOVERY["signature_rsv_hex_v01"])
    expected = RECOVERY["pubkey_uncompressed_hex"]
    assert ecdsa.recover_public_key(digest, raw).hex() == expected
    crypto_libs_form = raw[:64] + bytes([raw[64] + 27])
    assert ecdsa.recover_public_key(digest, crypto_libs_form).hex() == expected
    assert ecdsa.recover_address(digest, raw) == ecdsa.address_of_public_key(
        bytes.fromhex(expected)
    )


@pytest.mark.parametrize(
    "case", KEY_ADDRESS_CASES, ids=[c["priv_hex"][:8] for c in KEY_ADDRESS_CASES]
)
def test_upstream_keys_give_their_addresses(case: dict[str, Any]) -> None:
    secret = bytes.fromhex(case["priv_hex"])
    assert ecdsa.address_of(secret) == case["upstream_address"].lower()
    if case["upstream_pubkey_xy_hex"] is not None:
        xy = case["upstream_pubkey_xy_hex"].removeprefix("0x")
        assert ecdsa.public_key(secret).hex() == "04" + xy


@pytest.mark.parametrize("case", SIGNATURE_CASES, ids=[_case_id(c) for c in SIGNATURE_CASES])
def test_signatures_match_byte_for_byte(case: dict[str, Any]) -> None:
    secret = bytes.fromhex(case["priv_hex"])
    message = bytes.fromhex(case["message_hex"])
    digest = keccak256(message)
    assert digest.hex() == case["hash_keccak_hex"]
    signature = ecdsa.sign_hash(secret, digest)
    assert signature.hex() == case["signature_rsv_hex"]
    assert ecdsa.public_key(secret).hex() == case["pubkey_uncompressed_hex"]
    assert ecdsa.address_of(secret) == case["address"]
    assert ecdsa.recover_address(digest, signature) == case["address"]


# --- keys and inputs --------------------------------------------------------------------------


def test_secrets_of_any_length_in_range_are_accepted() -> None:
    assert ecdsa.address_of(b"\x01") == ecdsa.address_of(bytes(31) + b"\x01")
    assert ecdsa.address_of(bytes(8) + (N - 1).to_bytes(32, "big")) == ecdsa.address_of(
        (N - 1).to_bytes(32, "big")
    )


@pytest.mark.parametrize("secret", [b"", bytes(32), N.to_bytes(32, "big"), b"\xff" * 32])
def test_secrets_out_of_range_are_refused(secret: bytes) -> None:
    with pytest.raises(ValueError, match=r"\[1, n-1\]"):
        ecdsa.private_key(secret)


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_only_32_byte_hashes_are_signed(length: int) -> None:
    with pytest.raises(ValueError, match="32-byte hash"):
        ecdsa.sign_hash(b"\x01", bytes(length))


def test_malformed_signatures_do_not_recover() -> None:
    digest = bytes(32)
    good = ecdsa.sign_hash(b"\x05", digest)
    with pytest.raises(ValueError, match="65 bytes"):
        ecdsa.recover_address(digest, good[:64])
    with pytest.raises(ValueError, match="recovery id"):
        ecdsa.recover_address(digest, good[:64] + b"\x1d")
    with pytest.raises(ValueError, match="out of range"):
        ecdsa.recover_address(digest, bytes(64) + b"\x1b")
    with pytest.raises(ValueError, match="out of range"):
        ecdsa.recover_address(digest, N.to_bytes(32, "big") + good[32:])
    with pytest.raises(ValueError, match="32-byte hash"):
        ecdsa.recover_address(bytes(31), good)


def test_a_high_s_signature_still_recovers_like_go_ethereum() -> None:
    digest = keccak256(b"high s")
    signature = ecdsa.sign_hash(b"\x09", digest)
    s = int.from_bytes(signature[32:64], "big")
    # (r, n - s) with the other recovery id is the same signature in high-S form
    high = signature[:32] + (N - s).to_bytes(32, "big") + bytes([27 + 28 - signature[64]])
    assert not ecdsa.is_low_s(high)
    assert ecdsa.recover_address(digest, high) == ecdsa.address_of(b"\x09")


def test_public_key_decoding_accepts_compressed_and_refuses_garbage() -> None:
    key = PrivateKey(bytes(31) + b"\x03")
    compressed = key.public_key.format(compressed=True)
    assert ecdsa.address_of_public_key(compressed) == ecdsa.address_of(b"\x03")
    with pytest.raises(ValueError, match="invalid secp256k1 public key"):
        ecdsa.address_of_public_key(b"\x04" + bytes(64))


# --- properties -------------------------------------------------------------------------------


@settings(max_examples=200)
@given(SECRETS, HASHES)
def test_sign_then_recover_gives_the_address(secret: bytes, digest: bytes) -> None:
    signature = ecdsa.sign_hash(secret, digest)
    assert len(signature) == 65
    assert signature[64] in (27, 28)
    assert ecdsa.recover_address(digest, signature) == ecdsa.address_of(secret)


@settings(max_examples=300)
@given(SECRETS, HASHES)
def test_high_s_is_never_produced(secret: bytes, digest: bytes) -> None:
    signature = ecdsa.sign_hash(secret, digest)
    assert ecdsa.is_low_s(signature)
    assert int.from_bytes(signature[32:64], "big") <= N // 2


@settings(max_examples=50)
@given(SECRETS, HASHES)
def test_signing_is_deterministic_and_matches_coincurve(secret: bytes, digest: bytes) -> None:
    signature = ecdsa.sign_hash(secret, digest)
    assert ecdsa.sign_hash(secret, digest) == signature
    raw = PrivateKey(secret).sign_recoverable(digest, hasher=None)
    assert signature == raw[:64] + bytes([raw[64] + 27])


@settings(max_examples=50)
@given(SECRETS, HASHES, st.integers(min_value=0, max_value=63 * 8 - 1))
def test_a_flipped_bit_changes_the_recovered_address(
    secret: bytes, digest: bytes, bit: int
) -> None:
    signature = bytearray(ecdsa.sign_hash(secret, digest))
    signature[bit // 8] ^= 0x80 >> (bit % 8)
    try:
        recovered = ecdsa.recover_address(digest, bytes(signature))
    except ValueError:
        return
    assert recovered != ecdsa.address_of(secret)


def test_signing_is_fast() -> None:
    """libsecp256k1 signs in about 0.02 ms; the bound leaves room for slow CI machines."""
    key = ecdsa.private_key(b"\x11" * 32)
    digest = keccak256(b"x")
    times = []
    for _ in range(200):
        start = time.perf_counter()
        ecdsa.sign_hash(key, digest)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.001
