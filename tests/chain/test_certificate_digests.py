"""Our local G2 digests equal what EigenLayer's contracts compute, and our signatures verify on
the EVM.

`executor_core.certificates` computes `getMessageHash` and the certificate digests without the
eth_calls upstream spends on each task; a byte of difference would make every result signature
unverifiable on chain, so they are compared with the Solidity code for random inputs, and the
signatures are checked with the precompiles, as BN254CertificateVerifier and OpenZeppelin's
ECDSA do.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.bn254.signer import Bn254ResultSigner
from executor_adapters.signing.ecdsa import curve as ecdsa
from executor_adapters.signing.keccak import Keccak256Hasher, keccak256
from executor_core.addresses import Address
from executor_core.certificates import (
    bn254_certificate_digest,
    ecdsa_certificate_digest_bytes,
    ecdsa_domain_separator,
    message_hash,
)
from tests.chain_support import ECDSA_CERTIFICATE_VERIFIER, RESULT_SIGNATURE_CHECKER, DevChain

HASHER = Keccak256Hasher()
# views change no state, so one dev chain per test function serves all its examples
CHAIN_PROPERTY = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
task_hashes = st.binary(min_size=32, max_size=32)
# every length up to 300 bytes, with the word boundaries drawn as often as the rest
outputs = st.one_of(
    st.binary(max_size=300),
    st.integers(0, 9).flatmap(lambda words: st.binary(min_size=32 * words, max_size=32 * words)),
)
timestamps = st.integers(0, 2**32 - 1)
BN254_SECRET = bytes.fromhex("1f" * 32)
ECDSA_SECRET = bytes.fromhex("2e" * 32)


@CHAIN_PROPERTY
@given(task_hash=task_hashes, output=outputs)
def test_the_local_message_hash_equals_the_task_mailboxes(
    dev_chain: DevChain, task_hash: bytes, output: bytes
) -> None:
    assert message_hash(HASHER, task_hash, output) == dev_chain.message_hash(task_hash, output)


@CHAIN_PROPERTY
@given(timestamp=timestamps, message=task_hashes)
def test_the_local_bn254_digest_equals_the_verifiers(
    dev_chain: DevChain, timestamp: int, message: bytes
) -> None:
    local = bn254_certificate_digest(HASHER, timestamp, message)

    assert local == dev_chain.certificate_digest(timestamp, message)


@CHAIN_PROPERTY
@given(timestamp=timestamps, message=task_hashes)
def test_the_local_ecdsa_digest_bytes_equal_the_verifiers(
    dev_chain: DevChain, timestamp: int, message: bytes
) -> None:
    local = ecdsa_certificate_digest_bytes(HASHER, timestamp, message, dev_chain.domain_separator())

    assert local == dev_chain.certificate_digest_bytes(timestamp, message)
    assert len(local) == 66


def test_the_local_domain_separator_equals_the_verifiers_at_its_address(
    dev_chain: DevChain,
) -> None:
    local = ecdsa_domain_separator(HASHER, Address(ECDSA_CERTIFICATE_VERIFIER))

    assert local == dev_chain.domain_separator()


@CHAIN_PROPERTY
@given(task_hash=task_hashes, output=outputs, timestamp=timestamps)
def test_the_whole_bn254_chain_of_digests_matches_end_to_end(
    dev_chain: DevChain, task_hash: bytes, output: bytes, timestamp: int
) -> None:
    on_chain = dev_chain.certificate_digest(timestamp, dev_chain.message_hash(task_hash, output))

    assert bn254_certificate_digest(HASHER, timestamp, message_hash(HASHER, task_hash, output)) == (
        on_chain
    )


def test_the_checkers_hash_to_g1_is_the_solidity_compatible_one(dev_chain: DevChain) -> None:
    digest = keccak256(b"hello")
    data = dev_chain.node.call(RESULT_SIGNATURE_CHECKER, bytes.fromhex("178dd948") + digest)

    assert data.hex() == (
        "1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac9"
        "00a4852e8f1be4c9df00fd9bd67cbc17830f7149d0b6a0b41c9f9a1e40718d37"
    )


def test_a_bn254_result_signature_verifies_on_chain(dev_chain: DevChain) -> None:
    signer = Bn254ResultSigner(BN254_SECRET)
    digest = bn254_certificate_digest(HASHER, 1_700_000_000, keccak256(b"task"))
    signature = signer.sign_digest(digest)

    assert signature == bn254.sign_solidity(bn254.secret_to_scalar(BN254_SECRET), digest)
    assert dev_chain.verify_bn254(digest, signer.public_key_g1, signer.public_key_g2, signature)


def test_a_bn254_signature_over_another_digest_does_not_verify_on_chain(
    dev_chain: DevChain,
) -> None:
    signer = Bn254ResultSigner(BN254_SECRET)
    digest = keccak256(b"signed")
    signature = signer.sign_digest(digest)
    tampered = bytes([digest[0] ^ 1]) + digest[1:]

    assert not dev_chain.verify_bn254(
        tampered, signer.public_key_g1, signer.public_key_g2, signature
    )


def test_a_bn254_signature_under_another_key_does_not_verify_on_chain(
    dev_chain: DevChain,
) -> None:
    signer = Bn254ResultSigner(BN254_SECRET)
    other = Bn254ResultSigner(b"\x03" * 32)
    digest = keccak256(b"signed")

    signature = signer.sign_digest(digest)

    assert not dev_chain.verify_bn254(digest, other.public_key_g1, other.public_key_g2, signature)
    # a G1 key that does not match the G2 key fails too (the check binds both)
    assert not dev_chain.verify_bn254(digest, other.public_key_g1, signer.public_key_g2, signature)


def test_an_ecdsa_result_signature_verifies_on_chain(dev_chain: DevChain) -> None:
    digest_bytes = ecdsa_certificate_digest_bytes(
        HASHER, 1_700_000_000, keccak256(b"task"), dev_chain.domain_separator()
    )
    digest = keccak256(digest_bytes)
    signature = ecdsa.sign_hash(ECDSA_SECRET, digest)

    assert dev_chain.verify_ecdsa(digest, signature, ecdsa.address_of(ECDSA_SECRET))


def test_an_ecdsa_signature_does_not_verify_for_another_address(dev_chain: DevChain) -> None:
    digest = keccak256(b"auth bytes")
    signature = ecdsa.sign_hash(ECDSA_SECRET, digest)

    assert not dev_chain.verify_ecdsa(digest, signature, ecdsa.address_of(b"\x01" * 32))
    assert not dev_chain.verify_ecdsa(
        keccak256(b"other"), signature, ecdsa.address_of(ECDSA_SECRET)
    )


def test_a_high_s_ecdsa_signature_is_refused_on_chain(dev_chain: DevChain) -> None:
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    digest = keccak256(b"malleable")
    signature = ecdsa.sign_hash(ECDSA_SECRET, digest)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    flipped = r + (n - s).to_bytes(32, "big") + bytes([55 - v])

    assert ecdsa.recover_address(digest, flipped) == ecdsa.address_of(ECDSA_SECRET)
    assert not dev_chain.verify_ecdsa(digest, flipped, ecdsa.address_of(ECDSA_SECRET))
