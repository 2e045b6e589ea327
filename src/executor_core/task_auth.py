"""Only tasks that an AVS's own aggregator signed reach its performer.

First-generation aggregators sign the raw payload (BN254, RFC 9380 hash) with a key of their
operator set; any of the aggregator's keys may have signed it.
"""

from __future__ import annotations

from executor_core.errors import InvalidArgument, InvalidTaskSignature, UnknownAggregator
from executor_core.ports import AggregatorKeys
from executor_core.signature_batches import SignatureBatcher
from executor_core.tasks import Task


class TaskAuthenticator:
    """Checks the aggregator signature of each task before any work is done for it."""

    def __init__(self, keys: AggregatorKeys, signatures: SignatureBatcher) -> None:
        self._keys = keys
        self._signatures = signatures

    async def authenticate(self, task: Task) -> None:
        """Return if the task is authentic; raise why otherwise."""
        if task.aggregator_address is None:
            raise InvalidArgument(
                "aggregator_address", "is required: this AVS checks aggregator signatures"
            )
        keys = await self._keys.keys_for(task.avs_address, task.aggregator_address)
        if not keys:
            raise UnknownAggregator(
                f"{task.aggregator_address} is not an aggregator of AVS {task.avs_address}"
            )
        if not task.aggregator_signature:
            raise InvalidTaskSignature("signature: is missing")
        verified = await self._signatures.verify(
            keys, task.payload, task.aggregator_signature, origin=task.origin
        )
        if not verified:
            raise InvalidTaskSignature(
                f"signature: does not verify for aggregator {task.aggregator_address}"
            )
