"""What the deployment state machine is told: requests, and what the driver saw happen."""

from __future__ import annotations

import attrs

from executor_core.errors import ExecutorError
from executor_core.performers import PerformerId, Release


@attrs.frozen
class DeployRequested:
    deployment_id: str
    release: Release


@attrs.frozen
class StagingStarted:
    """The deployment's container runs; it has not answered its health check yet."""

    deployment_id: str
    performer_id: PerformerId
    container_id: str


@attrs.frozen
class StagingHealthy:
    deployment_id: str
    now: float


@attrs.frozen
class StagingFailed:
    """Pulling, starting or health-checking the deployment's image failed (or timed out)."""

    deployment_id: str
    error: ExecutorError = attrs.field(eq=False)


@attrs.frozen
class PerformerDown:
    """A container died, or a performer failed `failureThreshold` checks in a row."""

    performer_id: PerformerId
    reason: str
    now: float
    rollback_id: str
    """The id a rollback started by this signal takes (the driver makes ids, not `step`)."""


@attrs.frozen
class RecreationSucceeded:
    performer_id: PerformerId
    container_id: str
    attempt: int


@attrs.frozen
class RecreationFailed:
    performer_id: PerformerId
    attempt: int
    reason: str
    engine_unavailable: bool = False
    """The container engine could not be reached: retried without counting the attempt."""
    engine_waits: int = 0


@attrs.frozen
class RemoveRequested:
    performer_id: PerformerId
    request_id: str


@attrs.frozen
class DrainFinished:
    performer_id: PerformerId
    tasks_left: int


@attrs.frozen
class Adopted:
    """A container an earlier run left, found healthy at start, is to be the current one."""

    performer_id: PerformerId
    release: Release
    container_id: str


@attrs.frozen
class StopRequested:
    pass


Signal = (
    DeployRequested
    | StagingStarted
    | StagingHealthy
    | StagingFailed
    | PerformerDown
    | RecreationSucceeded
    | RecreationFailed
    | RemoveRequested
    | DrainFinished
    | Adopted
    | StopRequested
)
