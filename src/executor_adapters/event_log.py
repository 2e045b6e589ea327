"""The log writer of the core: every domain event becomes one structured log line.

The core writes no log lines itself; what an operator reads about deployments, performers and
tasks is this listener's rendering of the events, with the event's fields in camelCase
(`avsAddress`, `taskId`, `deploymentId`, `performerId`, ...) and its name in `event`.

Events a caller can cause at will (a refused task, a refused management call) are rate
limited per kind in `EventLog`, the listener the app subscribes: a flood of bad requests
writes a few lines and a count (`executor_adapters.log_limits`), not one line each.
"""

from __future__ import annotations

import logging

import attrs

from executor_adapters.log_limits import LimitedLog, LogBuckets
from executor_core import events as ev

__all__ = ["EventLog", "event_fields", "log_event"]

log = logging.getLogger("executor.events")

_LINES: dict[type, tuple[int, str]] = {
    ev.DeploymentStarted: (logging.INFO, "deployment started"),
    ev.PerformerStaged: (logging.INFO, "performer staged"),
    ev.DeploymentPromoted: (logging.INFO, "performer promoted"),
    ev.DeploymentFailed: (logging.WARNING, "deployment failed"),
    ev.DeploymentRolledBack: (logging.WARNING, "rolled back to the previous image"),
    ev.PerformerAdopted: (logging.INFO, "performer of an earlier run adopted"),
    ev.DeploymentRestored: (logging.INFO, "stored deployment restored instead of the config's"),
    ev.StoredDeploymentDropped: (logging.WARNING, "stored deployment not restored"),
    ev.StateNotSaved: (logging.ERROR, "deployment state could not be saved"),
    ev.LeftoverRemoved: (logging.INFO, "container of an earlier run removed"),
    ev.PerformerUnhealthy: (logging.WARNING, "performer unhealthy"),
    ev.PerformerRecreated: (logging.INFO, "performer recreated"),
    ev.RecreationAttemptFailed: (logging.WARNING, "recreating the performer failed"),
    ev.PerformerFailed: (logging.ERROR, "performer failed; it stays down until a deployment"),
    ev.PerformerRemoved: (logging.INFO, "performer removed"),
    ev.DrainTimedOut: (logging.WARNING, "drain timed out; removed with tasks still running"),
    ev.CleanupFailed: (logging.ERROR, "could not remove what the executor made"),
    ev.ContainerEventsInterrupted: (logging.WARNING, "container events unavailable"),
    ev.AggregatorCheckDisabled: (
        logging.WARNING,
        "aggregator signature check is OFF: any caller can run tasks on this AVS",
    ),
    ev.ShutdownStarted: (logging.INFO, "waiting for running tasks"),
    ev.TaskCompleted: (logging.INFO, "task completed"),
    ev.TaskFailed: (logging.WARNING, "task failed"),
    ev.ManagementCallAuthenticated: (logging.INFO, "management call authenticated"),
    ev.ManagementAuthRefused: (logging.WARNING, "management call refused: authentication failed"),
    ev.SignatureBatchStarted: (logging.DEBUG, "signature batch verified"),
    ev.DuplicateTaskAnswered: (logging.INFO, "repeated task answered with its earlier result"),
    ev.TaskReadAtLatestBlock: (
        logging.INFO,
        "task_block_number is 0: chain reads use the latest block and are not cached",
    ),
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def event_fields(event: ev.DomainEvent) -> dict[str, object]:
    """The event's attributes as log fields: camelCase keys, ids and addresses as strings."""
    fields: dict[str, object] = {"event": type(event).__name__}
    for name, value in attrs.asdict(event, recurse=False).items():
        if value is None:
            continue
        key = _camel(name)
        if name == "image":
            fields[key] = value.reference
        elif isinstance(value, int | float | str):
            fields[key] = value
        else:
            fields[key] = str(value)
    return fields


def log_event(event: ev.DomainEvent) -> None:
    """An `EventListener`: one line per event, at the level its kind deserves."""
    level, message = _LINES.get(type(event), (logging.INFO, type(event).__name__))
    if log.isEnabledFor(level):
        log.log(level, message, extra=event_fields(event))


_LIMITED: dict[type, tuple[str, ...]] = {
    ev.TaskFailed: ("errorType",),
    ev.ManagementAuthRefused: ("method",),
    ev.TaskReadAtLatestBlock: (),
    ev.DuplicateTaskAnswered: (),
}
"""Events any caller can cause, each with the fields that make two of its lines similar."""


class EventLog:
    """`log_event` with the events of `_LIMITED` rate limited per kind (the event and, for
    TaskFailed, its `errorType`); one instance per executor."""

    def __init__(self, buckets: LogBuckets | None = None) -> None:
        self._limited = LimitedLog(log, buckets)

    def __call__(self, event: ev.DomainEvent) -> None:
        similar = _LIMITED.get(type(event))
        if similar is None:
            log_event(event)
            return
        level, message = _LINES[type(event)]
        if not log.isEnabledFor(level):
            return
        fields = event_fields(event)
        kind = {"event": fields["event"], **{name: fields.get(name, "") for name in similar}}
        self._limited.log(level, message, kind=kind, extra=fields)
