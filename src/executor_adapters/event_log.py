"""Writes every domain event as one structured log line (avsAddress, deploymentId, ...)."""

from __future__ import annotations

import logging

import attrs

from executor_core.events import (
    DeploymentFailed,
    DeploymentRolledBack,
    DomainEvent,
    PerformerFailed,
    PerformerUnhealthy,
)

log = logging.getLogger("executor.events")

_WARNINGS = (DeploymentFailed, DeploymentRolledBack, PerformerUnhealthy)
_FIELD_NAMES = {
    "avs_address": "avsAddress",
    "deployment_id": "deploymentId",
    "performer_id": "performerId",
    "previous_performer_id": "previousPerformerId",
    "failed_performer_id": "failedPerformerId",
    "container_id": "containerId",
    "error_type": "errorType",
}


def event_fields(event: DomainEvent) -> dict[str, object]:
    """The event's attributes as log fields, ids and addresses as plain strings."""
    fields: dict[str, object] = {"event": type(event).__name__}
    for name, value in attrs.asdict(event, recurse=False).items():
        key = _FIELD_NAMES.get(name, name)
        if value is None:
            continue
        if name == "image":
            fields[key] = value.reference
        elif isinstance(value, int | str):
            fields[key] = value
        else:
            fields[key] = str(value)
    return fields


def log_event(event: DomainEvent) -> None:
    """An `EventListener` that logs; failures and rollbacks at warning, give-ups at error."""
    if isinstance(event, PerformerFailed):
        level = logging.ERROR
    elif isinstance(event, _WARNINGS):
        level = logging.WARNING
    else:
        level = logging.INFO
    log.log(level, f"event {type(event).__name__}", extra=event_fields(event))
