"""Names and labels of the containers and networks the executor creates.

Labels let an operator (and the executor itself) find every object an executor instance made,
even after a crash; upstream sets none, so its leftovers cannot be cleaned up.
"""

from __future__ import annotations

import hashlib

from executor_core.addresses import AvsAddress
from executor_core.performers import PerformerId

AVS_ADDRESS_LABEL = "com.eigenlayer.hourglass.avs-address"
PERFORMER_ID_LABEL = "com.eigenlayer.hourglass.performer-id"
EXECUTOR_INSTANCE_LABEL = "com.eigenlayer.hourglass.executor-instance"
EXECUTOR_NAME_LABEL = "com.eigenlayer.hourglass.executor-name"
"""The executor's stable identity (`instanceName`): the same across restarts, so that what a
crashed run left behind is found, adopted or removed by the next one, and only that."""
MANAGED_BY_LABEL = "com.eigenlayer.hourglass.managed-by"
MANAGED_BY = "hourglass-executor-py"


def executor_labels(executor_name: str) -> dict[str, str]:
    """Labels that mark an object as this executor's, whichever run of it made the object."""
    return {MANAGED_BY_LABEL: MANAGED_BY, EXECUTOR_NAME_LABEL: executor_name}


def owner_labels(instance_id: str, executor_name: str) -> dict[str, str]:
    """Labels that mark an object as made by this run (process) of the executor."""
    return {**executor_labels(executor_name), EXECUTOR_INSTANCE_LABEL: instance_id}


def performer_labels(
    instance_id: str, executor_name: str, avs: AvsAddress, performer_id: PerformerId
) -> dict[str, str]:
    """Labels of one performer container."""
    return {
        **owner_labels(instance_id, executor_name),
        AVS_ADDRESS_LABEL: avs.value,
        PERFORMER_ID_LABEL: performer_id.value,
    }


def container_name(avs: AvsAddress, unique: str) -> str:
    """Upstream's `avs-performer-<6 hex of sha256(avs)>-…`, with a unique suffix instead of a
    one-second timestamp, so blue and green containers created together never collide."""
    digest = hashlib.sha256(avs.value.encode("ascii")).hexdigest()[:6]
    return f"avs-performer-{digest}-{unique[:12]}"
