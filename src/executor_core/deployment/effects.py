"""What the deployment state machine asks its driver to do."""

from __future__ import annotations

import attrs

from executor_core import events as ev
from executor_core.addresses import AvsAddress
from executor_core.deployment.state import Deployment, Member, Slots
from executor_core.errors import ExecutorError
from executor_core.performers import PerformerId, Release
from executor_core.settings import DeploymentPolicy


@attrs.frozen
class Emit:
    event: ev.DomainEvent


@attrs.frozen
class StartStaging:
    """Pull, start and health-check `release`, reporting StagingStarted, then Healthy or Failed."""

    deployment_id: str
    release: Release


@attrs.frozen
class CancelStaging:
    deployment_id: str


@attrs.frozen
class Reply:
    """Answer the DeployArtifact (by deployment id) or RemovePerformer (by request id) caller."""

    request_id: str
    performer_id: PerformerId | None = None
    error: ExecutorError | None = attrs.field(default=None, eq=False)


@attrs.frozen
class StartDrain:
    """Wait (bounded) for the member's tasks to finish, then report DrainFinished."""

    performer_id: PerformerId


@attrs.frozen
class Dispose:
    """Close the client and remove the container."""

    performer_id: PerformerId
    container_id: str


@attrs.frozen
class ScheduleRecreation:
    """After `delay`, replace the dead container by a new one of `release` under the same id."""

    performer_id: PerformerId
    release: Release
    attempt: int
    delay: float
    engine_waits: int = 0
    """Retries so far because the container engine could not be reached (not counted as
    attempts: an engine outage must not use up the performer's recreations)."""


@attrs.frozen
class CancelRecreation:
    performer_id: PerformerId


Effect = (
    Emit
    | StartStaging
    | CancelStaging
    | Reply
    | StartDrain
    | Dispose
    | ScheduleRecreation
    | CancelRecreation
)

Step = tuple[Slots, list[Effect]]
"""What `step` returns: the new slots and the effects to carry out, in order."""


# --- the effects several transitions share ---------------------------------------------


def start(deployment: Deployment, avs: AvsAddress) -> list[Effect]:
    started = ev.DeploymentStarted(avs, deployment.deployment_id, deployment.image)
    return [Emit(started), StartStaging(deployment.deployment_id, deployment.release)]


def dispose(member: Member, avs: AvsAddress) -> list[Effect]:
    return [
        Dispose(member.performer_id, member.container_id),
        Emit(ev.PerformerRemoved(avs, member.performer_id)),
    ]


def recreation(member: Member, attempt: int, policy: DeploymentPolicy) -> ScheduleRecreation:
    return ScheduleRecreation(
        member.performer_id, member.release, attempt, policy.recreate_delay(attempt)
    )
