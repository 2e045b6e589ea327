"""The native BN254 backend (gnark-crypto) and the pure-Python one give the same bytes and
verdicts, against the vectors and against each other; batches give every signature the verdict
of its single check."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.bn254 import native as bn254_native
from executor_adapters.signing.bn254.fast import api as fast
from tests.vectors import load_vector

NATIVE = bn254_native.load()
needs_native = pytest.mark.skipif(
    NATIVE is None, reason="the native BN254 library is not built (scripts/build-native.sh)"
)
KEYS = {k["name"]: k for k in load_vector("bn254_keys.json")["keys"]}
SIGNATURES = load_vector("bn254_signatures.json")["cases"]
RFC_HASH = load_vector("bn254_hash_to_g1_rfc9380.json")
SK = int(KEYS["ponos-aggregator"]["sk_hex"], 16)
PK = bytes.fromhex(KEYS["ponos-aggregator"]["pubkey_g2_bytes_hex"])
OTHER_PK = bytes.fromhex(KEYS["ponos-executor"]["pubkey_g2_bytes_hex"])
MESSAGES = [secrets.token_bytes(8 + i) for i in range(24)]
GOOD = [fast.sign(SK, m) for m in MESSAGES]
WRONG = [GOOD[(i + 1) % len(GOOD)] for i in range(len(GOOD))]
"""Valid curve points that sign another message: each costs a pairing to reject."""


@pytest.fixture(params=["native", "python"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "native":
        if NATIVE is None:
            pytest.skip("the native BN254 library is not built (scripts/build-native.sh)")
        monkeypatch.setattr(bn254, "_native", NATIVE)
    else:
        monkeypatch.setattr(bn254, "_native", None)
    return str(request.param)


def _point(coordinates: list[str]) -> bytes:
    return b"".join(int(c, 16).to_bytes(32, "big") for c in coordinates)


def test_signatures_match_the_vectors(backend: str) -> None:
    checked = 0
    for case in SIGNATURES:
        if case.get("key") not in KEYS:
            continue
        secret = int(KEYS[case["key"]]["sk_hex"], 16)
        if "message_hex" in case:
            assert (
                bn254.sign(secret, bytes.fromhex(case["message_hex"])).hex()
                == case["signature_hex"]
            )
        elif "digest_hex" in case:
            assert (
                bn254.sign_solidity(secret, bytes.fromhex(case["digest_hex"])).hex()
                == case["signature_hex"]
            )
        else:
            continue
        checked += 1
    assert checked >= 10


@needs_native
@pytest.mark.parametrize(
    ("dst", "case"),
    [
        (hash_set["dst"], case)
        for hash_set in RFC_HASH["upstream_sets"]["sets"]
        if hash_set["function"] == "hashToG1"
        for case in hash_set["cases"]
    ],
)
def test_native_hash_to_g1_matches_gnark_s_rfc9380_vectors(dst: str, case: dict[str, Any]) -> None:
    assert NATIVE is not None
    assert NATIVE.hash_to_g1(case["msg"].encode(), dst.encode()) == _point(case["P"])


@needs_native
@pytest.mark.parametrize("case", RFC_HASH["crypto_libs_dst_set"]["cases"])
def test_native_hash_to_g1_matches_the_crypto_libs_dst_vectors(case: dict[str, Any]) -> None:
    assert NATIVE is not None
    dst = RFC_HASH["crypto_libs_dst_set"]["dst"].encode()
    assert NATIVE.hash_to_g1(bytes.fromhex(case["msg_hex"]), dst).hex() == case["P_bytes_hex"]


@needs_native
@pytest.mark.parametrize("case", load_vector("bn254_solidity_hash_to_g1.json")["cases"])
def test_native_solidity_hash_matches_the_evm(case: dict[str, Any]) -> None:
    assert NATIVE is not None
    digest = bytes.fromhex(case["digest_hex"].removeprefix("0x"))
    assert NATIVE.solidity_hash_to_g1(digest).hex() == case["point_bytes_hex"]


@needs_native
@settings(max_examples=40, deadline=None)
@given(st.integers(1, fast.R - 1), st.binary(max_size=200), st.binary(min_size=32, max_size=32))
def test_native_and_python_sign_the_same_bytes(secret: int, message: bytes, digest: bytes) -> None:
    assert NATIVE is not None
    key = secret.to_bytes(32, "big")
    assert NATIVE.sign(key, message, bn254.DEFAULT_DST) == fast.sign(secret, message)
    assert NATIVE.sign_solidity(key, digest) == fast.sign_solidity(secret, digest)


def test_single_checks_accept_good_and_refuse_wrong_signatures(backend: str) -> None:
    digest = bytes(range(32))
    solidity = bn254.sign_solidity(SK, digest)

    assert bn254.verify(PK, MESSAGES[0], GOOD[0])
    assert not bn254.verify(PK, MESSAGES[0], WRONG[0])
    assert not bn254.verify(OTHER_PK, MESSAGES[0], GOOD[0])
    assert not bn254.verify(bytes(128), MESSAGES[0], GOOD[0])
    assert not bn254.verify(PK, MESSAGES[0], bytes(64))
    assert not bn254.verify(PK, MESSAGES[0], b"\x01" * 64)
    assert bn254.verify_solidity(PK, digest, solidity)
    assert not bn254.verify_solidity(PK, bytes(reversed(digest)), solidity)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["good", "wrong", "garbage", "infinity"]), max_size=24))
def test_a_batch_gives_exactly_the_single_checks_verdicts(kinds: list[str]) -> None:
    """Any mix of good and bad signatures: the batch (native: one weighted multi-pairing, then
    bisection) says what checking each alone with the pure-Python oracle says."""
    messages = MESSAGES[: len(kinds)]
    signatures = [
        {"good": GOOD[i], "wrong": WRONG[i], "garbage": b"\x07" * 64, "infinity": bytes(64)}[k]
        for i, k in enumerate(kinds)
    ]
    expected = [fast.verify(PK, m, s) for m, s in zip(messages, signatures, strict=True)]

    assert bn254.verify_batch(PK, messages, signatures) == expected
    assert asyncio.run(bn254.verify_batch_async(PK, messages, signatures)) == expected
    assert expected == [k == "good" for k in kinds]


def test_batches_under_a_malformed_or_foreign_key_fail_every_signature(backend: str) -> None:
    assert bn254.verify_batch(bytes(128), MESSAGES[:3], GOOD[:3]) == [False] * 3
    assert bn254.verify_batch(b"\x01" * 128, MESSAGES[:3], GOOD[:3]) == [False] * 3
    assert bn254.verify_batch(OTHER_PK, MESSAGES[:3], GOOD[:3]) == [False] * 3
    assert bn254.verify_batch(PK, [], []) == []


async def test_many_batches_in_flight_each_get_their_own_verdicts(backend: str) -> None:
    async def one(i: int) -> list[bool]:
        signatures = [GOOD[i], WRONG[i]] if i % 2 else [GOOD[i]]
        messages = [MESSAGES[i]] * len(signatures)
        return await bn254.verify_batch_async(PK, messages, signatures)

    results = await asyncio.gather(*(one(i) for i in range(len(MESSAGES))))

    assert results == [[True, False] if i % 2 else [True] for i in range(len(MESSAGES))]


def test_the_backend_names_itself(backend: str) -> None:
    assert bn254.backend().startswith(backend)
    assert bn254.backend_is_native() is (backend == "native")
