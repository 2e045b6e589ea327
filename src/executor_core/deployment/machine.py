"""The blue-green deployment state machine of one AVS, as a pure function.

`step(slots, signal, policy)` returns the new `Slots` and the effects the driver must carry out
(start a container, drain one, answer a caller, emit a domain event). It does no I/O and never
waits, so every sequence of signals can be replayed and tested in microseconds; `AvsPerformer`
is the thin async driver that feeds it signals and carries out its effects.

A deployment, from DeployArtifact to promotion: `Executor.deploy_artifact` →
`AvsPerformer.deploy` → `step(DeployRequested)` gives `StartStaging` → `AvsPerformer._stage`
pulls, starts and health-checks the image, feeding `StagingStarted` and then `StagingHealthy` →
`step` promotes the staged performer and drains the old one.
"""

from __future__ import annotations

import attrs

from executor_core import events as ev
from executor_core.addresses import AvsAddress
from executor_core.deployment.effects import (
    CancelRecreation,
    CancelStaging,
    Dispose,
    Effect,
    Emit,
    Reply,
    StartDrain,
    Step,
    dispose,
    recreation,
    start,
)
from executor_core.deployment.recovery import down, recreated, recreation_failed
from executor_core.deployment.signals import (
    Adopted,
    DeployRequested,
    DrainFinished,
    PerformerDown,
    RecreationFailed,
    RecreationSucceeded,
    RemoveRequested,
    Signal,
    StagingFailed,
    StagingHealthy,
    StagingStarted,
    StopRequested,
)
from executor_core.deployment.state import Deployment, Draining, Member, Phase, Probation, Slots
from executor_core.errors import (
    ContainerStartFailed,
    DeploymentInProgress,
    PerformerNotFound,
    ShuttingDown,
)
from executor_core.settings import DeploymentPolicy

__all__ = ["Step", "step"]


def step(slots: Slots, signal: Signal, avs: AvsAddress, policy: DeploymentPolicy) -> Step:
    """The new slots after `signal`, and what must be done about it."""
    if slots.stopped:
        return _after_stop(slots, signal)
    match signal:
        case DeployRequested():
            return _deploy(slots, signal, avs)
        case StagingStarted():
            return _staging_started(slots, signal, avs)
        case StagingHealthy():
            return _promote(slots, signal, avs, policy)
        case StagingFailed():
            return _staging_failed(slots, signal, avs, policy)
        case PerformerDown():
            return down(slots, signal, avs, policy)
        case RecreationSucceeded():
            return recreated(slots, signal, avs)
        case RecreationFailed():
            return recreation_failed(slots, signal, avs, policy)
        case RemoveRequested():
            return _remove(slots, signal, avs)
        case DrainFinished():
            return _drained(slots, signal, avs)
        case Adopted():
            return _adopt(slots, signal)
        case StopRequested():
            return _stop(slots, avs)


def _adopt(slots: Slots, signal: Adopted) -> Step:
    """Only an AVS with nothing yet takes an adopted container; otherwise it goes."""
    if slots.current is not None or slots.staged is not None or slots.deployment is not None:
        return slots, [Dispose(signal.performer_id, signal.container_id)]
    member = Member(signal.performer_id, signal.release, signal.container_id, Phase.IN_SERVICE)
    return attrs.evolve(slots, current=member), []


def _deploy(slots: Slots, signal: DeployRequested, avs: AvsAddress) -> Step:
    if slots.deployment is not None:
        refused = DeploymentInProgress(f"a deployment is already in progress for AVS {avs}")
        return slots, [Reply(signal.deployment_id, error=refused)]
    deployment = Deployment(signal.deployment_id, signal.release)
    return attrs.evolve(slots, deployment=deployment), start(deployment, avs)


def _staging_started(slots: Slots, signal: StagingStarted, avs: AvsAddress) -> Step:
    deployment = slots.deployment
    if deployment is None or deployment.deployment_id != signal.deployment_id:
        return slots, [Dispose(signal.performer_id, signal.container_id)]  # cancelled meanwhile
    staged = Member(signal.performer_id, deployment.release, signal.container_id, Phase.STAGED)
    event = ev.PerformerStaged(
        avs, deployment.deployment_id, staged.performer_id, staged.container_id
    )
    return attrs.evolve(slots, staged=staged), [Emit(event)]


def _promote(
    slots: Slots, signal: StagingHealthy, avs: AvsAddress, policy: DeploymentPolicy
) -> Step:
    deployment, staged, previous = slots.deployment, slots.staged, slots.current
    if deployment is None or deployment.deployment_id != signal.deployment_id:
        return slots, []
    if staged is None:
        removed = ContainerStartFailed("the staged performer was removed before promotion")
        return _staging_failed(slots, StagingFailed(signal.deployment_id, removed), avs, policy)
    promoted = attrs.evolve(staged, phase=Phase.IN_SERVICE)
    probation = None
    if previous is not None and policy.probation_period > 0 and deployment.rollback_of is None:
        probation = Probation(
            promoted.performer_id, previous.release, signal.now + policy.probation_period
        )
    slots = attrs.evolve(slots, current=promoted, staged=None, deployment=None, probation=probation)
    effects: list[Effect] = []
    if previous is not None:
        slots, effects = _retire(slots, previous)
    effects.append(
        Emit(
            ev.DeploymentPromoted(
                avs,
                deployment.deployment_id,
                promoted.performer_id,
                previous.performer_id if previous else None,
            )
        )
    )
    if deployment.rollback_of is not None:
        effects.append(
            Emit(
                ev.DeploymentRolledBack(
                    avs,
                    deployment.deployment_id,
                    deployment.rollback_of,
                    promoted.performer_id,
                    deployment.image,
                )
            )
        )
    return slots, [*effects, Reply(deployment.deployment_id, promoted.performer_id)]


def _retire(slots: Slots, member: Member, reply_to: str | None = None) -> Step:
    """Move a member to draining; a recovery of it is no longer wanted."""
    draining = Draining(attrs.evolve(member, phase=Phase.DRAINING), reply_to)
    effects: list[Effect] = [StartDrain(member.performer_id)]
    if member.phase in (Phase.RECOVERING, Phase.FAILED):
        effects.insert(0, CancelRecreation(member.performer_id))
    return attrs.evolve(slots, draining=(*slots.draining, draining)), effects


def _staging_failed(
    slots: Slots, signal: StagingFailed, avs: AvsAddress, policy: DeploymentPolicy
) -> Step:
    deployment = slots.deployment
    if deployment is None or deployment.deployment_id != signal.deployment_id:
        return slots, []
    error = signal.error
    effects: list[Effect] = []
    if slots.staged is not None:
        effects += dispose(slots.staged, avs)
    failed = ev.DeploymentFailed(
        avs, deployment.deployment_id, str(error) or type(error).__name__, type(error).__name__
    )
    effects += [Emit(failed), Reply(deployment.deployment_id, error=error)]
    slots = attrs.evolve(slots, staged=None, deployment=None)
    current = slots.current
    if (
        deployment.rollback_of is not None
        and current is not None
        and current.performer_id == deployment.rollback_of
        and current.phase is Phase.RECOVERING
    ):
        effects.append(recreation(current, 1, policy))  # the way back failed: recreate it
    return slots, effects


def _remove(slots: Slots, signal: RemoveRequested, avs: AvsAddress) -> Step:
    staged, current = slots.staged, slots.current
    if staged is not None and staged.performer_id == signal.performer_id:
        deployment = slots.deployment
        assert deployment is not None  # a staged member always has its deployment
        removed = ContainerStartFailed("the staged performer was removed before promotion")
        failed = ev.DeploymentFailed(
            avs, deployment.deployment_id, str(removed), "ContainerStartFailed"
        )
        effects: list[Effect] = [
            CancelStaging(deployment.deployment_id),
            *dispose(staged, avs),
            Emit(failed),
            Reply(deployment.deployment_id, error=removed),
            Reply(signal.request_id, staged.performer_id),
        ]
        return attrs.evolve(slots, staged=None, deployment=None), effects
    if current is not None and current.performer_id == signal.performer_id:
        probation = slots.probation
        if probation is not None and probation.performer_id == current.performer_id:
            probation = None
        slots = attrs.evolve(slots, current=None, probation=probation)
        return _retire(slots, current, reply_to=signal.request_id)
    missing = PerformerNotFound(f"performer with ID {signal.performer_id} not found")
    return slots, [Reply(signal.request_id, error=missing)]


def _drained(slots: Slots, signal: DrainFinished, avs: AvsAddress) -> Step:
    entry = next((d for d in slots.draining if d.member.performer_id == signal.performer_id), None)
    if entry is None:
        return slots, []
    remaining = tuple(d for d in slots.draining if d is not entry)
    effects: list[Effect] = []
    if signal.tasks_left:
        effects.append(Emit(ev.DrainTimedOut(avs, signal.performer_id, signal.tasks_left)))
    effects += dispose(entry.member, avs)
    if entry.reply_to is not None:
        effects.append(Reply(entry.reply_to, signal.performer_id))
    return attrs.evolve(slots, draining=remaining), effects


def _stop(slots: Slots, avs: AvsAddress) -> Step:
    """Everything goes: callers are told, recoveries cancelled, every container removed."""
    effects: list[Effect] = []
    stopping = ShuttingDown("the executor is shutting down")
    if slots.deployment is not None:
        effects += [
            CancelStaging(slots.deployment.deployment_id),
            Reply(slots.deployment.deployment_id, error=stopping),
        ]
    for member in slots.members():
        effects += [CancelRecreation(member.performer_id), *dispose(member, avs)]
    effects += [Reply(d.reply_to, d.member.performer_id) for d in slots.draining if d.reply_to]
    return Slots(stopped=True), effects


def _after_stop(slots: Slots, signal: Signal) -> Step:
    """Stopped slots take nothing new; a container that still shows up is removed."""
    stopping = ShuttingDown("the executor is shutting down")
    match signal:
        case DeployRequested():
            return slots, [Reply(signal.deployment_id, error=stopping)]
        case RemoveRequested():
            missing = PerformerNotFound(f"performer with ID {signal.performer_id} not found")
            return slots, [Reply(signal.request_id, error=missing)]
        case StagingStarted() | Adopted():
            return slots, [Dispose(signal.performer_id, signal.container_id)]
        case RecreationSucceeded():
            return slots, [Dispose(signal.performer_id, signal.container_id)]
        case _:
            return slots, []
