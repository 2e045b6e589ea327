"""The blue-green deployment state machine of one AVS: frozen state, signals in, effects out.

`step` (machine.py) is the whole of it; `state` holds the frozen `Slots`, `signals` what the
machine is told, `effects` what it asks for. `executor_core.avs_performer` drives it.
"""

from executor_core.deployment.effects import (
    CancelRecreation,
    CancelStaging,
    Dispose,
    Effect,
    Emit,
    Reply,
    ScheduleRecreation,
    StartDrain,
    StartStaging,
)
from executor_core.deployment.machine import Step, step
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

__all__ = [
    "Adopted",
    "CancelRecreation",
    "CancelStaging",
    "DeployRequested",
    "Deployment",
    "Dispose",
    "DrainFinished",
    "Draining",
    "Effect",
    "Emit",
    "Member",
    "PerformerDown",
    "Phase",
    "Probation",
    "RecreationFailed",
    "RecreationSucceeded",
    "RemoveRequested",
    "Reply",
    "ScheduleRecreation",
    "Signal",
    "Slots",
    "StagingFailed",
    "StagingHealthy",
    "StagingStarted",
    "StartDrain",
    "StartStaging",
    "Step",
    "StopRequested",
    "step",
]
