"""Tasks as they arrive from an aggregator, and the signed results that go back."""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from executor_core.addresses import Address, AvsAddress

MAX_TASK_ID_LENGTH = 256
_TASK_ID = re.compile(r"[\x21-\x7e]+")


def _check_task_id(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("is required")
    if len(value) > MAX_TASK_ID_LENGTH:
        raise ValueError(f"must be at most {MAX_TASK_ID_LENGTH} characters, got {len(value)}")
    if not _TASK_ID.fullmatch(value):
        raise ValueError("must be printable ASCII without spaces")
    return value


@attrs.frozen
class TaskId:
    """The aggregator's task identifier, usually a TaskMailbox hash (`0x` + 64 hex).

    First-generation aggregators may send other printable strings, so only emptiness, length
    and control characters are rejected; the id is echoed byte for byte in the result.
    """

    value: str = attrs.field(converter=_check_task_id)

    def __str__(self) -> str:
        return self.value


G2_VERSION = 1
"""The only second-generation message version (TaskSubmission.version)."""


def _uint(bits: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(_: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
            raise ValueError(f"{attribute.name}: must be an unsigned {bits}-bit integer")

    return check


@attrs.frozen
class G2Envelope:
    """What a second-generation submission adds to a task: where and when it was created, and
    for whom. The aggregator's signature covers all of it."""

    operator_set_id: int = attrs.field(validator=_uint(32))
    reference_timestamp: int = attrs.field(validator=_uint(32))
    executor_address: Address
    task_block_number: int = attrs.field(validator=_uint(64))
    """L1 block for every chain read; 0 means the latest block."""


@attrs.frozen
class Task:
    """One unit of AVS work addressed to this operator."""

    task_id: TaskId
    avs_address: AvsAddress
    payload: bytes = attrs.field(validator=attrs.validators.instance_of(bytes), repr=False)
    aggregator_address: Address | None = None
    aggregator_signature: bytes = attrs.field(default=b"", repr=False)
    avs_address_as_sent: str = ""
    """The AVS address exactly as the aggregator spelt it; echoed back in the result."""
    origin: str = ""
    """Where the task came from (the transport's peer), so one sender cannot starve another."""
    envelope: G2Envelope | None = None
    """Set for second-generation (version 1) submissions, None for first-generation ones."""


@attrs.frozen
class TaskResult:
    """The performer's output for a task, signed by the operator."""

    task_id: TaskId
    avs_address: str
    operator_address: str
    output: bytes = attrs.field(repr=False)
    signature: bytes = attrs.field(repr=False)
    """G1: over keccak256(output); G2: over the certificate digest (`result_signature`)."""
    operator_set_id: int = 0
    auth_signature: bytes = attrs.field(default=b"", repr=False)
    version: int = 0
