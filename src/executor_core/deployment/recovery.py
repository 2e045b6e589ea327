"""Recovery of the current performer: recreation under the same id, or a rollback."""

from __future__ import annotations

import attrs

from executor_core import events as ev
from executor_core.addresses import AvsAddress
from executor_core.deployment.effects import (
    Dispose,
    Effect,
    Emit,
    ScheduleRecreation,
    Step,
    recreation,
    start,
)
from executor_core.deployment.signals import PerformerDown, RecreationFailed, RecreationSucceeded
from executor_core.deployment.state import Deployment, Member, Phase, Slots
from executor_core.settings import DeploymentPolicy

__all__ = ["down", "recreated", "recreation_failed"]


def down(slots: Slots, signal: PerformerDown, avs: AvsAddress, policy: DeploymentPolicy) -> Step:
    current = slots.current
    if current is None or current.performer_id != signal.performer_id:
        return slots, []  # staged: its deployment sees it; draining: it goes anyway
    if current.phase is not Phase.IN_SERVICE:
        return slots, []  # already being recovered (an OOM kill reports twice), or given up
    recovering = attrs.evolve(current, phase=Phase.RECOVERING)
    slots = attrs.evolve(slots, current=recovering)
    effects: list[Effect] = [Emit(ev.PerformerUnhealthy(avs, current.performer_id, signal.reason))]
    probation = slots.probation
    if (
        probation is not None
        and probation.performer_id == current.performer_id
        and signal.now < probation.until
        and slots.deployment is None
    ):
        rollback = Deployment(signal.rollback_id, probation.fallback, current.performer_id)
        slots = attrs.evolve(slots, deployment=rollback, probation=None)
        return slots, [*effects, *start(rollback, avs)]
    if policy.max_recreations == 0:
        return _give_up(slots, recovering, avs, effects, "recreation is off (maxAttempts 0)")
    return slots, [*effects, recreation(recovering, 1, policy)]


def _give_up(
    slots: Slots, member: Member, avs: AvsAddress, effects: list[Effect], reason: str
) -> Step:
    failed = attrs.evolve(member, phase=Phase.FAILED)
    event = ev.PerformerFailed(avs, member.performer_id, reason)
    return attrs.evolve(slots, current=failed), [*effects, Emit(event)]


def recreated(slots: Slots, signal: RecreationSucceeded, avs: AvsAddress) -> Step:
    current = slots.current
    if current is None or current.performer_id != signal.performer_id:
        return slots, [Dispose(signal.performer_id, signal.container_id)]  # replaced meanwhile
    if current.phase is not Phase.RECOVERING:
        return slots, [Dispose(signal.performer_id, signal.container_id)]
    serving = attrs.evolve(current, container_id=signal.container_id, phase=Phase.IN_SERVICE)
    event = ev.PerformerRecreated(avs, current.performer_id, signal.container_id, signal.attempt)
    return attrs.evolve(slots, current=serving), [Emit(event)]


def recreation_failed(
    slots: Slots, signal: RecreationFailed, avs: AvsAddress, policy: DeploymentPolicy
) -> Step:
    current = slots.current
    if current is None or current.performer_id != signal.performer_id:
        return slots, []
    if current.phase is not Phase.RECOVERING:
        return slots, []
    effects: list[Effect] = [
        Emit(ev.RecreationAttemptFailed(avs, current.performer_id, signal.attempt, signal.reason))
    ]
    if signal.engine_unavailable:
        waits = signal.engine_waits + 1
        retry = ScheduleRecreation(
            current.performer_id,
            current.release,
            signal.attempt,
            policy.engine_retry_delay(waits),
            engine_waits=waits,
        )
        return slots, [*effects, retry]
    if signal.attempt >= policy.max_recreations:
        reason = f"not recreated after {policy.max_recreations} attempts"
        return _give_up(slots, current, avs, effects, reason)
    return slots, [*effects, recreation(current, signal.attempt + 1, policy)]
