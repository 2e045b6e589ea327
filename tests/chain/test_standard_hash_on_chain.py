"""The EVM checks BN254 signatures made with the *standard* hash (crypto-libs `Sign`).

The executor's G2 `auth_signature` is `Sign(keccak256(authBytes))`: sk·HashToG1 with RFC 9380
hash_to_curve (expand_message_xmd SHA-256, SVDW map, signing.md §1.5), not the try-and-increment
hash the certificate verifiers use. ResultSignatureChecker implements that hash from the RFC on
the precompiles, so end-to-end tests can verify auth signatures on a node too; these tests pin
the Solidity hash to the upstream vectors and to our Python one, and the verification to
`curve.sign`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.bn254.fast.hashing import (
    DEFAULT_DST,
    map_to_curve_svdw,
    rfc9380_hash_to_g1,
)
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_adapters.signing.keccak import Keccak256Hasher, keccak256
from executor_core import certificates
from executor_core.addresses import Address
from tests.chain_support import DevChain
from tests.vectors import load_vector

P = bn254.FIELD_MODULUS
HASHER = Keccak256Hasher()
SECRET = bytes.fromhex("1f" * 32)
SK = bn254.secret_to_scalar(SECRET)
OTHER_SK = bn254.secret_to_scalar(b"\x03" * 32)
# views change no state, so one dev chain per test function serves all its examples
CHAIN_PROPERTY = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_VECTORS = load_vector("bn254_hash_to_g1_rfc9380.json")
(_UPSTREAM,) = [s for s in _VECTORS["upstream_sets"]["sets"] if s["function"] == "hashToG1"]
_CRYPTO_LIBS = _VECTORS["crypto_libs_dst_set"]


def _point(hex_pair: list[str]) -> tuple[int, int]:
    return int(hex_pair[0], 16), int(hex_pair[1], 16)


def _python_hash(msg: bytes, dst: bytes) -> tuple[int, int]:
    point = rfc9380_hash_to_g1(msg, dst)
    assert point is not None  # infinity has probability ~2⁻²⁵⁴
    return int(point[0]), int(point[1])


@pytest.mark.parametrize("case", _UPSTREAM["cases"], ids=lambda case: case["msg"][:16] or "empty")
def test_the_checkers_hash_equals_gnarks_rfc9380_vectors(
    dev_chain: DevChain, case: dict[str, Any]
) -> None:
    assert _UPSTREAM["dst"] == "QUUX-V01-CS02-with-BN254G1_XMD:SHA-256_SVDW_RO_"

    on_chain = dev_chain.hash_to_g1_standard(case["msg"].encode(), _UPSTREAM["dst"].encode())

    assert on_chain == _point(case["P"])


@pytest.mark.parametrize("case", _CRYPTO_LIBS["cases"], ids=lambda case: case["msg_hex"][:16])
def test_the_checkers_hash_equals_the_crypto_libs_dst_vectors(
    dev_chain: DevChain, case: dict[str, Any]
) -> None:
    on_chain = dev_chain.hash_to_g1_standard(
        bytes.fromhex(case["msg_hex"]), _CRYPTO_LIBS["dst"].encode()
    )

    assert on_chain == _point(case["P"])


@CHAIN_PROPERTY
@given(
    msg=st.binary(max_size=300),
    dst=st.one_of(st.just(DEFAULT_DST), st.binary(min_size=1, max_size=255)),
)
def test_the_checkers_hash_equals_the_python_one(
    dev_chain: DevChain, msg: bytes, dst: bytes
) -> None:
    assert dev_chain.hash_to_g1_standard(msg, dst) == _python_hash(msg, dst)


@pytest.mark.parametrize(
    "u",
    [
        0,
        1,
        P - 1,
        (P + 1) // 2,  # 1/2: 1 - 4u² = 0, so tv3 = inv0(0) = 0
        (P - 1) // 2,  # -1/2, the same with the other sign of u
        2**256 - 1,  # reduced mod p first
    ],
)
def test_the_checkers_svdw_map_handles_the_exceptional_inputs(dev_chain: DevChain, u: int) -> None:
    x, y = map_to_curve_svdw(u)

    assert dev_chain.map_to_curve_svdw(u) == (int(x), int(y))


def test_a_standard_signature_verifies_on_chain(dev_chain: DevChain) -> None:
    msg = b"a message of any length, hashed with RFC 9380"
    signature = bn254.sign(SK, msg)
    pk = bn254.public_key_g2(SK)

    assert bn254.verify(pk, msg, signature)
    assert dev_chain.verify_bn254_standard(msg, pk, signature)


def test_a_standard_signature_over_another_message_does_not_verify_on_chain(
    dev_chain: DevChain,
) -> None:
    signature = bn254.sign(SK, b"signed")

    assert not dev_chain.verify_bn254_standard(b"other", bn254.public_key_g2(SK), signature)


def test_a_standard_signature_under_another_key_does_not_verify_on_chain(
    dev_chain: DevChain,
) -> None:
    signature = bn254.sign(SK, b"signed")

    assert not dev_chain.verify_bn254_standard(b"signed", bn254.public_key_g2(OTHER_SK), signature)


def test_a_standard_signature_under_another_dst_does_not_verify_on_chain(
    dev_chain: DevChain,
) -> None:
    signature = bn254.sign(SK, b"signed")
    pk = bn254.public_key_g2(SK)

    assert not dev_chain.verify_bn254_standard(b"signed", pk, signature, _UPSTREAM["dst"].encode())
    # and the Solidity-compatible signature of the same 32 bytes is a different point
    digest = keccak256(b"signed")
    assert not dev_chain.verify_bn254_standard(digest, pk, bn254.sign_solidity(SK, digest))


def test_an_off_curve_signature_does_not_verify_on_chain(dev_chain: DevChain) -> None:
    signature = bn254.sign(SK, b"signed")
    off_curve = signature[:32] + ((int.from_bytes(signature[32:], "big") + 1) % P).to_bytes(
        32, "big"
    )

    assert not dev_chain.verify_bn254_standard(b"signed", bn254.public_key_g2(SK), off_curve)


def test_the_executors_g2_auth_signature_verifies_on_chain(dev_chain: DevChain) -> None:
    """HEAD's rule (signing.md §5.2): authSignature = Sign(keccak256(authBytes)), next to a
    result signature that the certificate verifier's check accepts."""
    signer = Bn254ResultSigner(SECRET)
    task_hash = keccak256(b"task")
    digest = certificates.bn254_certificate_digest(
        HASHER, 1_700_000_000, certificates.message_hash(HASHER, task_hash, b"output")
    )
    result_signature = asyncio.run(signer.sign_for_solidity(digest))
    auth = certificates.auth_bytes(
        HASHER,
        task_hash=task_hash,
        avs=Address("0x" + "aa" * 20),
        operator=Address("0x" + "bb" * 20),
        operator_set_id=1,
        result_signature=result_signature,
    )
    auth_signature = asyncio.run(signer.sign_message(auth))

    assert len(auth) == 160
    assert auth_signature == bn254.sign(SK, keccak256(auth))
    assert dev_chain.verify_bn254_standard(keccak256(auth), signer.public_key_g2, auth_signature)
    assert not dev_chain.verify_bn254_standard(auth, signer.public_key_g2, auth_signature)
    assert dev_chain.verify_bn254(
        digest, signer.public_key_g1, signer.public_key_g2, result_signature
    )


def test_a_standard_verification_costs_under_a_quarter_of_a_million_gas(
    dev_chain: DevChain,
) -> None:
    msg = keccak256(b"auth bytes")
    signature = bn254.sign(SK, msg)

    gas = dev_chain.verify_bn254_standard_gas(msg, bn254.public_key_g2(SK), signature)

    # two-pair pairing = 113 000 (EIP-1108), plus 21 000 intrinsic and the hash (~30 000:
    # 4-7 modexps, 4 sha256, 1 ecAdd); measured about 168 000 for a 32-byte message
    assert 113_000 < gas < 250_000
