"""Second-generation (G2) task rules: who may send a task, and what the result signs.

A G2 task is admitted when it is addressed to this operator, this operator is a member of the
task's operator set at the task's block (AllocationManager `isMemberOfOperatorSet`, not a
registered key as upstream infers it), and the AVS's aggregator signed the 224-byte submission
message with the key KeyRegistrar holds for it at that block. The result is signed over the
certificate digest EigenLayer's verifiers check, with the curve of the task's operator set, and
an auth signature binds this operator to that signature.

The curve of the task's own operator set (and the ECDSA verifier's domain separator) is read
while the task is admitted, so a task that could not be signed never reaches the performer, and
signing needs no chain read.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from executor_core import certificates
from executor_core.addresses import Address
from executor_core.errors import (
    InvalidTaskSignature,
    NotForThisOperator,
    NotInOperatorSet,
    OperatorSetNotConfigured,
    OutputTooLarge,
    SigningError,
    UnknownAggregator,
)
from executor_core.ports import (
    LATEST_BLOCK,
    ChainReader,
    Hasher,
    KeyCurve,
    OperatorSet,
    OperatorSigner,
    SignedMessage,
    TaskSignatureVerifier,
)
from executor_core.signature_batches import SignatureBatcher
from executor_core.tasks import G2_VERSION, G2Envelope, Task, TaskResult

__all__ = ["G2Admission", "G2Rules"]

_KEY_NAMES = {
    KeyCurve.BN254: "operator.signingKeys.bls",
    KeyCurve.ECDSA: "operator.signingKeys.ecdsa",
}


@attrs.frozen
class G2Admission:
    """What authenticating a task established, and what signing its result will need."""

    signed_message: bytes = attrs.field(repr=False)
    """The 224-byte submission message the aggregator signed."""
    signer: OperatorSigner
    operator_set: OperatorSet
    domain_separator: bytes = b""
    """The ECDSA certificate verifier's, read while admitting, so signing reads no chain."""


def _envelope(task: Task) -> G2Envelope:
    if task.envelope is None:
        raise ValueError("not a second-generation task")
    return task.envelope


class G2Rules:
    """Authenticates G2 tasks against the chain and signs their results."""

    def __init__(
        self,
        *,
        operator: Address,
        chain: ChainReader,
        hasher: Hasher,
        signers: Mapping[KeyCurve, OperatorSigner],
        bn254_signatures: SignatureBatcher,
        ecdsa_verifier: TaskSignatureVerifier,
    ) -> None:
        self._operator = operator
        self._chain = chain
        self._hasher = hasher
        self._signers = dict(signers)
        self._bn254 = bn254_signatures
        self._ecdsa = ecdsa_verifier
        self._operator_text = eip55(hasher, operator)
        """How go-ethereum writes the address (`Address.Hex()`), which aggregators compare."""

    def submission_message(self, task: Task) -> bytes:
        """The message the aggregator must have signed, built with this operator's address."""
        envelope = _envelope(task)
        return certificates.submission_message(
            self._hasher,
            task_hash=certificates.task_hash(task.task_id.value),
            avs=task.avs_address,
            executor=self._operator,
            operator_set_id=envelope.operator_set_id,
            reference_timestamp=envelope.reference_timestamp,
            task_block_number=envelope.task_block_number,
            payload=task.payload,
        )

    async def admit(self, task: Task, signed_message: bytes) -> G2Admission:
        """Check the task in upstream's order; raise the first reason it is refused."""
        envelope = _envelope(task)
        if envelope.executor_address != self._operator:
            raise NotForThisOperator(
                f"executor_address: the task is for operator {envelope.executor_address}; "
                f"this executor runs for {self._operator}"
            )
        block = envelope.task_block_number
        own_set = OperatorSet(task.avs_address, envelope.operator_set_id)
        chain = self._chain
        # One read after the other: the reader answers a block it has seen from its cache
        # without I/O, and running them concurrently would cost three tasks per task to save
        # one round trip once per block.
        member = await chain.is_member(self._operator, own_set, block=block)
        at = _at_block(block)
        if not member:
            raise NotInOperatorSet(
                f"operator_set_id: operator {self._operator} is not a member of operator set "
                f"{envelope.operator_set_id} of AVS {task.avs_address} {at}"
            )
        signer = self._signer_for(await chain.curve_type(own_set, block=block), own_set, at)
        separator = await chain.ecdsa_domain_separator() if signer.curve is KeyCurve.ECDSA else b""
        aggregator_set_id = await chain.aggregator_operator_set_id(task.avs_address, block=block)
        await self._check_aggregator(task, signed_message, aggregator_set_id, block)
        return G2Admission(
            signed_message=signed_message,
            signer=signer,
            operator_set=own_set,
            domain_separator=separator,
        )

    def _signer_for(self, curve: KeyCurve, operator_set: OperatorSet, at: str) -> OperatorSigner:
        if curve is KeyCurve.NONE:
            raise OperatorSetNotConfigured(
                f"operator set {operator_set.id} of AVS {operator_set.avs} has no key curve in "
                f"KeyRegistrar {at}"
            )
        signer = self._signers.get(curve)
        if signer is None:
            raise OperatorSetNotConfigured(
                f"operator set {operator_set.id} of AVS {operator_set.avs} signs with "
                f"{curve.name} keys, and {_KEY_NAMES[curve]} is not configured"
            )
        return signer

    async def _check_aggregator(
        self, task: Task, signed_message: bytes, aggregator_set_id: int, block: int
    ) -> None:
        aggregator = task.aggregator_address
        assert aggregator is not None  # the wire parser requires it for G2
        aggregator_set = OperatorSet(task.avs_address, aggregator_set_id)
        curve = await self._chain.curve_type(aggregator_set, block=block)
        digest = self._hasher.keccak256(signed_message)
        unknown = UnknownAggregator(
            f"aggregator_address: {aggregator} has no key in the aggregator operator set "
            f"{aggregator_set_id} of AVS {task.avs_address} {_at_block(block)}"
        )
        if curve is KeyCurve.BN254:
            key = await self._chain.bn254_key(aggregator_set, aggregator, block=block)
            if not key:
                raise unknown
            verified = await self._bn254.verify(
                [key], digest, task.aggregator_signature, origin=task.origin
            )
        elif curve is KeyCurve.ECDSA:
            address = await self._chain.ecdsa_address(aggregator_set, aggregator, block=block)
            if address is None:
                raise unknown
            item = SignedMessage(digest, task.aggregator_signature)
            (verified,) = await self._ecdsa.verify_batch([_address_bytes(address)], [item])
        else:
            raise OperatorSetNotConfigured(
                f"the aggregator operator set {aggregator_set_id} of AVS {task.avs_address} has "
                f"no key curve in KeyRegistrar {_at_block(block)}"
            )
        if not verified:
            raise InvalidTaskSignature(
                f"signature: does not verify for aggregator {aggregator} ({curve.name} key of "
                f"operator set {aggregator_set_id}) over this task"
            )

    async def sign(self, task: Task, admission: G2Admission, output: bytes) -> TaskResult:
        """The G2 TaskResult: certificate-digest signature, auth signature, version 1."""
        if len(output) >= certificates.MAX_AGGREGATED_OUTPUT:
            raise OutputTooLarge(
                f"the performer's output is {len(output)} bytes; aggregators drop outputs of "
                f"{certificates.MAX_AGGREGATED_OUTPUT} bytes or more, so it was not signed"
            )
        envelope = _envelope(task)
        signer = admission.signer
        task_hash = certificates.task_hash(task.task_id.value)
        message = certificates.message_hash(self._hasher, task_hash, output)
        try:
            if signer.curve is KeyCurve.ECDSA:
                signed = certificates.ecdsa_certificate_digest_bytes(
                    self._hasher, envelope.reference_timestamp, message, admission.domain_separator
                )
            else:
                signed = certificates.bn254_certificate_digest(
                    self._hasher, envelope.reference_timestamp, message
                )
            result_signature = await signer.sign_for_solidity(signed)
            auth = certificates.auth_bytes(
                self._hasher,
                task_hash=task_hash,
                avs=task.avs_address,
                operator=self._operator,
                operator_set_id=envelope.operator_set_id,
                result_signature=result_signature,
            )
            auth_signature = await signer.sign_message(auth)
        except SigningError:
            raise
        except ValueError as exc:
            raise SigningError(f"{signer.curve.name} result signing failed: {exc}") from exc
        return TaskResult(
            task_id=task.task_id,
            avs_address=task.avs_address.value,
            operator_address=self._operator_text,
            output=output,
            signature=result_signature,
            operator_set_id=envelope.operator_set_id,
            auth_signature=auth_signature,
            version=G2_VERSION,
        )


def eip55(hasher: Hasher, address: Address) -> str:
    """The EIP-55 mixed-case spelling of an address."""
    hex_digits = address.value[2:]
    nibbles = hasher.keccak256(hex_digits.encode()).hex()
    return "0x" + "".join(
        c.upper() if c.isalpha() and int(n, 16) >= 8 else c
        for c, n in zip(hex_digits, nibbles[: len(hex_digits)], strict=True)
    )


def _at_block(block: int) -> str:
    return "at the latest block" if block == LATEST_BLOCK else f"at block {block}"


def _address_bytes(address: Address) -> bytes:
    return bytes.fromhex(address.value[2:])
