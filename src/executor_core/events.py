"""Domain events: what happened to deployments and performers, for logs, metrics and tests.

The core emits them through `EventListener`s; it never waits on a listener, and a listener that
raises is logged and otherwise ignored, so observers cannot break the executor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import attrs

from executor_core.addresses import AvsAddress
from executor_core.performers import PerformerId, PerformerImage

_log = logging.getLogger("executor_core.events")


@attrs.frozen
class DeploymentStarted:
    avs_address: AvsAddress
    deployment_id: str
    image: PerformerImage


@attrs.frozen
class PerformerStaged:
    avs_address: AvsAddress
    deployment_id: str
    performer_id: PerformerId
    container_id: str


@attrs.frozen
class DeploymentPromoted:
    avs_address: AvsAddress
    deployment_id: str
    performer_id: PerformerId
    previous_performer_id: PerformerId | None


@attrs.frozen
class DeploymentFailed:
    avs_address: AvsAddress
    deployment_id: str
    reason: str
    error_type: str


@attrs.frozen
class DeploymentRolledBack:
    """A performer failed during its probation; the previous image serves again."""

    avs_address: AvsAddress
    deployment_id: str
    failed_performer_id: PerformerId
    performer_id: PerformerId
    image: PerformerImage


@attrs.frozen
class PerformerUnhealthy:
    avs_address: AvsAddress
    performer_id: PerformerId
    reason: str


@attrs.frozen
class PerformerRecreated:
    avs_address: AvsAddress
    performer_id: PerformerId
    container_id: str
    attempt: int


@attrs.frozen
class PerformerFailed:
    """Recreation gave up; the performer stays down until a deployment replaces it."""

    avs_address: AvsAddress
    performer_id: PerformerId
    reason: str


@attrs.frozen
class PerformerRemoved:
    avs_address: AvsAddress
    performer_id: PerformerId


DomainEvent = (
    DeploymentStarted
    | PerformerStaged
    | DeploymentPromoted
    | DeploymentFailed
    | DeploymentRolledBack
    | PerformerUnhealthy
    | PerformerRecreated
    | PerformerFailed
    | PerformerRemoved
)

EventListener = Callable[[DomainEvent], None]


class EventHub:
    """Fans events out to listeners; a failing listener never reaches the emitter."""

    def __init__(self) -> None:
        self._listeners: list[EventListener] = []

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Add a listener; return a function that removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event: DomainEvent) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("event listener failed", extra={"event": type(event).__name__})
