"""Only tasks that an AVS's own aggregator signed reach its performer.

First-generation aggregators sign the raw payload (BN254, RFC 9380 hash) with a key of their
operator set; any of the aggregator's keys may have signed it.
"""

from __future__ import annotations

import logging

from executor_core.errors import InvalidArgument, InvalidTaskSignature, UnknownAggregator
from executor_core.ports import AggregatorKeys
from executor_core.signature_batches import SignatureBatcher
from executor_core.tasks import Task

log = logging.getLogger("executor_core.task_auth")


class TaskAuthenticator:
    """Checks the aggregator signature of each task before any work is done for it."""

    def __init__(self, keys: AggregatorKeys, signatures: SignatureBatcher) -> None:
        self._keys = keys
        self._signatures = signatures

    async def authenticate(self, task: Task) -> None:
        """Return if the task is authentic; raise and log why otherwise."""
        fields = {"avsAddress": task.avs_address.value, "taskId": task.task_id.value}
        if task.aggregator_address is None:
            raise InvalidArgument(
                "aggregator_address", "is required: this AVS checks aggregator signatures"
            )
        fields["aggregatorAddress"] = task.aggregator_address.value
        keys = await self._keys.keys_for(task.avs_address, task.aggregator_address)
        if not keys:
            log.warning("task from an unknown aggregator refused", extra=fields)
            raise UnknownAggregator(
                f"{task.aggregator_address} is not an aggregator of AVS {task.avs_address}"
            )
        if not task.aggregator_signature:
            log.warning("task without an aggregator signature refused", extra=fields)
            raise InvalidTaskSignature("signature: is missing")
        verified = await self._signatures.verify(
            keys, task.payload, task.aggregator_signature, origin=task.origin
        )
        if not verified:
            log.warning("task with a bad aggregator signature refused", extra=fields)
            raise InvalidTaskSignature(
                f"signature: does not verify for aggregator {task.aggregator_address}"
            )
