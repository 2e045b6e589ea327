"""What a second-generation Ponos aggregator does around one executor, written out for tests.

It builds and signs TaskSubmissions (version 1) with a BN254 or an ECDSA aggregator key, and
checks a TaskResult the way the aggregator does before it aggregates it (reference §5.3): the
task id, the operator, the result signature over the certificate digest and the auth
signature. The digests are written out here from the reference, independently of the
executor's own `executor_core.certificates`.
"""

from __future__ import annotations

import attrs

from executor_adapters.signing.bn254 import curve as bn254
from executor_adapters.signing.ecdsa import curve as ecdsa
from executor_adapters.signing.keccak import keccak256
from hourglass_proto.eigenlayer.hourglass import v1 as pb

BN254_TYPEHASH = keccak256(b"BN254Certificate(uint32 referenceTimestamp,bytes32 messageHash)")
ECDSA_TYPEHASH = keccak256(b"ECDSACertificate(uint32 referenceTimestamp,bytes32 messageHash)")
REFERENCE_TIMESTAMP = 1_760_000_000


def word(value: int | str) -> bytes:
    if isinstance(value, str):
        return bytes.fromhex(value.removeprefix("0x")).rjust(32, b"\0")
    return value.to_bytes(32, "big")


@attrs.frozen
class G2Aggregator:
    """An aggregator with a BN254 scalar or an ECDSA secret (exactly one)."""

    address: str
    bn254_secret: int | None = None
    ecdsa_secret: bytes | None = None

    def submission(
        self,
        *,
        task_id: str,
        avs: str,
        executor: str,
        operator_set_id: int,
        block: int,
        payload: bytes,
        signed_payload: bytes | None = None,
        signed_executor: str | None = None,
        version: int = 1,
    ) -> pb.TaskSubmission:
        """A submission; `signed_*` let a test sign something other than what it sends."""
        message = b"".join(
            (
                word(task_id),
                word(avs),
                word(signed_executor or executor),
                word(operator_set_id),
                word(REFERENCE_TIMESTAMP),
                word(block),
                keccak256(payload if signed_payload is None else signed_payload),
            )
        )
        digest = keccak256(message)
        if self.bn254_secret is not None:
            signature = bn254.sign(self.bn254_secret, digest)
        else:
            assert self.ecdsa_secret is not None
            signature = ecdsa.sign_hash(self.ecdsa_secret, digest)
        return pb.TaskSubmission(
            task_id=task_id,
            aggregator_address=self.address,
            avs_address=avs,
            payload=payload,
            signature=signature,
            operator_set_id=operator_set_id,
            reference_timestamp=REFERENCE_TIMESTAMP,
            executor_address=executor,
            task_block_number=block,
            version=version,
        )


def message_hash(task_id: str, output: bytes) -> bytes:
    """TaskMailbox.getMessageHash: keccak256(abi.encode(bytes32, bytes))."""
    padded = output + b"\0" * (-len(output) % 32)
    return keccak256(word(task_id) + word(64) + word(len(output)) + padded)


def bn254_digest(task_id: str, output: bytes) -> bytes:
    return keccak256(BN254_TYPEHASH + word(REFERENCE_TIMESTAMP) + message_hash(task_id, output))


def ecdsa_digest_bytes(task_id: str, output: bytes, domain_separator: bytes) -> bytes:
    struct = keccak256(ECDSA_TYPEHASH + word(REFERENCE_TIMESTAMP) + message_hash(task_id, output))
    return b"\x19\x01" + domain_separator + struct


def auth_digest(result: pb.TaskResult, operator: str) -> bytes:
    return keccak256(
        word(result.task_id)
        + word(result.avs_address)
        + word(operator)
        + word(result.operator_set_id)
        + keccak256(result.result_signature)
    )
