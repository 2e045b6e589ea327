"""What a second-generation (G2) aggregator and executor sign, byte for byte.

Every value is a sequence of 32-byte ABI words, as EigenLayer's contracts encode them
(reference signing.md §5.2). `getMessageHash` and `calculateCertificateDigest` are pure
functions on chain; computing them here saves the eth_call upstream spends on each task.
Hashing goes through the `Hasher` port, so the core imports no hashing library.
"""

from __future__ import annotations

from executor_core.addresses import Address
from executor_core.ports import Hasher

__all__ = [
    "AUTH_BYTES_SIZE",
    "BN254_CERTIFICATE_TYPEHASH",
    "ECDSA_CERTIFICATE_TYPEHASH",
    "MAX_AGGREGATED_OUTPUT",
    "SUBMISSION_MESSAGE_SIZE",
    "auth_bytes",
    "bn254_certificate_digest",
    "ecdsa_certificate_digest_bytes",
    "ecdsa_domain_separator",
    "message_hash",
    "submission_message",
    "task_hash",
]

BN254_CERTIFICATE_TYPEHASH = bytes.fromhex(
    "d9f77a423768f4b0526fa60a7c732334516a93f1d228dce50ad804ea74ced36e"
)
"""keccak256("BN254Certificate(uint32 referenceTimestamp,bytes32 messageHash)")."""
ECDSA_CERTIFICATE_TYPEHASH = bytes.fromhex(
    "da346acb3ce99e7c5132bf8cafb159ad8085970ebfdba78007ef0fe163063d14"
)
"""keccak256("ECDSACertificate(uint32 referenceTimestamp,bytes32 messageHash)")."""
EIP712_DOMAIN = b"EIP712Domain(string name,string version,address verifyingContract)"
SUBMISSION_MESSAGE_SIZE = 224
AUTH_BYTES_SIZE = 160
MAX_AGGREGATED_OUTPUT = 1_572_864
"""Outputs of this many bytes or more are dropped by the aggregator (1.5 MiB)."""

_WORD = 32


def _uint(value: int) -> bytes:
    return value.to_bytes(_WORD, "big")


def _address(address: Address) -> bytes:
    return bytes.fromhex(address.value[2:]).rjust(_WORD, b"\0")


def task_hash(task_id: str) -> bytes:
    """The 32 bytes of a G2 task id (`0x` + 64 hex digits, checked by the caller)."""
    return bytes.fromhex(task_id[2:])


def submission_message(
    hasher: Hasher,
    *,
    task_hash: bytes,
    avs: Address,
    executor: Address,
    operator_set_id: int,
    reference_timestamp: int,
    task_block_number: int,
    payload: bytes,
) -> bytes:
    """The 224 bytes the aggregator signs (over their keccak256) for one executor."""
    return b"".join(
        (
            task_hash,
            _address(avs),
            _address(executor),
            _uint(operator_set_id),
            _uint(reference_timestamp),
            _uint(task_block_number),
            hasher.keccak256(payload),
        )
    )


def message_hash(hasher: Hasher, task_hash: bytes, output: bytes) -> bytes:
    """TaskMailbox `getMessageHash`: keccak256(abi.encode(bytes32 taskHash, bytes output))."""
    padding = b"\0" * (-len(output) % _WORD)
    return hasher.keccak256(
        b"".join((task_hash, _uint(2 * _WORD), _uint(len(output)), output, padding))
    )


def bn254_certificate_digest(hasher: Hasher, reference_timestamp: int, message: bytes) -> bytes:
    """BN254CertificateVerifier `calculateCertificateDigest(referenceTimestamp, messageHash)`."""
    return hasher.keccak256(BN254_CERTIFICATE_TYPEHASH + _uint(reference_timestamp) + message)


def ecdsa_certificate_digest_bytes(
    hasher: Hasher, reference_timestamp: int, message: bytes, domain_separator: bytes
) -> bytes:
    """ECDSACertificateVerifier `calculateCertificateDigestBytes`: the 66-byte EIP-712 input
    `0x1901 ‖ domainSeparator ‖ structHash`."""
    struct_hash = hasher.keccak256(
        ECDSA_CERTIFICATE_TYPEHASH + _uint(reference_timestamp) + message
    )
    return b"\x19\x01" + domain_separator + struct_hash


def ecdsa_domain_separator(hasher: Hasher, verifier: Address, major_version: str = "1") -> bytes:
    """The verifier's EIP-712 domain separator (name "EigenLayer", no chain id); the executor
    reads it from chain, this is for tests and for checking what the chain says."""
    return hasher.keccak256(
        hasher.keccak256(EIP712_DOMAIN)
        + hasher.keccak256(b"EigenLayer")
        + hasher.keccak256(major_version.encode())
        + _address(verifier)
    )


def auth_bytes(
    hasher: Hasher,
    *,
    task_hash: bytes,
    avs: Address,
    operator: Address,
    operator_set_id: int,
    result_signature: bytes,
) -> bytes:
    """The 160 bytes whose signature binds this operator to its result signature."""
    return b"".join(
        (
            task_hash,
            _address(avs),
            _address(operator),
            _uint(operator_set_id),
            hasher.keccak256(result_signature),
        )
    )
