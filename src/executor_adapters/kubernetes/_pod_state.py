"""What a pod's status means to the executor: running, ready, failed to start, or dead.

The kubelet reports a performer that cannot start as a container *waiting* with a reason:

    waiting reason                                   core error
    ErrImagePull, ImagePullBackOff                   pull_failure(message): RegistryUnavailable,
                                                       ImageNotFound or ContainerRuntimeError
    InvalidImageName, ErrImageNeverPull              ImageNotFound
    CreateContainerConfigError (a Secret or          ContainerStartFailed
      ConfigMap key is missing), CreateContainer-
      Error, RunContainerError, CrashLoopBackOff
    (container terminated, or the pod Failed)        ContainerStartFailed

A pod that cannot be scheduled stays Pending; the start times out naming the scheduler's reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from executor_adapters.image_pulls import pull_failure
from executor_adapters.kubernetes._labels import original_labels
from executor_adapters.kubernetes._manifests import CONTAINER
from executor_core.errors import ContainerRuntimeError, ContainerStartFailed, ImageNotFound
from executor_core.performers import Endpoint
from executor_core.ports import ContainerEvent, ContainerEventKind, FoundContainer

__all__ = ["PodView", "death_events", "found_container", "start_failure"]

_PULL_FAILURES = {"ErrImagePull", "ImagePullBackOff"}
_BAD_IMAGE = {"InvalidImageName", "ErrImageNeverPull"}
_START_FAILURES = {
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
    "CrashLoopBackOff",
}
_OOM = "OOMKilled"


@attrs.frozen
class Terminated:
    exit_code: int | None
    reason: str
    message: str


@attrs.frozen
class PodView:
    """The parts of a pod the runtime acts on."""

    name: str
    uid: str
    phase: str
    deleting: bool
    ready: bool
    running: bool
    terminated: Terminated | None
    waiting_reason: str
    waiting_message: str
    image_id: str
    unschedulable: str
    """The scheduler's message while the pod cannot be placed; empty otherwise."""

    @classmethod
    def of(cls, pod: Mapping[str, Any]) -> PodView:
        metadata = pod.get("metadata") or {}
        status = pod.get("status") or {}
        container = _container_status(status)
        state = container.get("state") or {}
        waiting = state.get("waiting") or {}
        terminated = state.get("terminated")
        conditions = {c.get("type"): c for c in status.get("conditions") or []}
        scheduled = conditions.get("PodScheduled") or {}
        return cls(
            name=metadata.get("name", ""),
            uid=metadata.get("uid", ""),
            phase=status.get("phase", ""),
            deleting=bool(metadata.get("deletionTimestamp")),
            ready=(conditions.get("Ready") or {}).get("status") == "True",
            running="running" in state,
            terminated=None
            if terminated is None
            else Terminated(
                terminated.get("exitCode"),
                terminated.get("reason", ""),
                terminated.get("message", ""),
            ),
            waiting_reason=waiting.get("reason", ""),
            waiting_message=waiting.get("message", ""),
            image_id=container.get("imageID", ""),
            unschedulable=scheduled.get("message", "")
            if scheduled.get("reason") == "Unschedulable"
            else "",
        )

    @property
    def alive(self) -> bool:
        """Running and not on its way out."""
        return self.running and not self.deleting and self.phase == "Running"

    @property
    def dead(self) -> bool:
        return self.terminated is not None or self.phase in ("Failed", "Succeeded")


def _container_status(status: Mapping[str, Any]) -> Mapping[str, Any]:
    for container in status.get("containerStatuses") or []:
        if container.get("name") == CONTAINER:
            return dict(container)
    return {}


def start_failure(view: PodView) -> ContainerRuntimeError | None:
    """Why the pod will not serve, if its status already tells; None while it may still."""
    where = f"pod {view.name}"
    if view.waiting_reason in _PULL_FAILURES:
        return pull_failure(f"{where}: pulling the image failed: {view.waiting_message}")
    if view.waiting_reason in _BAD_IMAGE:
        return ImageNotFound(f"{where}: {view.waiting_reason}: {view.waiting_message}")
    if view.waiting_reason in _START_FAILURES:
        return ContainerStartFailed(f"{where}: {view.waiting_reason}: {view.waiting_message}")
    if view.terminated is not None:
        done = view.terminated
        return ContainerStartFailed(
            f"{where}: the performer exited with code {done.exit_code} ({done.reason})"
        )
    if view.phase in ("Failed", "Succeeded"):
        return ContainerStartFailed(f"{where}: the pod is {view.phase}")
    return None


def death_events(view: PodView) -> list[ContainerEvent]:
    """What Docker would have reported for a pod that is dead: die, after oom for a kernel
    memory kill. Empty for a pod that lives."""
    if view.terminated is not None:
        code = view.terminated.exit_code
        if view.terminated.reason == _OOM:
            return [
                ContainerEvent(view.name, ContainerEventKind.OOM_KILLED, code),
                ContainerEvent(view.name, ContainerEventKind.DIED, code),
            ]
        return [ContainerEvent(view.name, ContainerEventKind.DIED, code)]
    if view.phase in ("Failed", "Succeeded"):
        return [ContainerEvent(view.name, ContainerEventKind.DIED, None)]
    return []


def found_container(pod: Mapping[str, Any], endpoint: Endpoint | None) -> FoundContainer:
    view = PodView.of(pod)
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    container: Mapping[str, Any] = next(
        (c for c in spec.get("containers") or [] if c.get("name") == CONTAINER), {}
    )
    env = tuple(
        (entry["name"], entry.get("value", ""))
        for entry in container.get("env") or []
        if "valueFrom" not in entry
    )
    return FoundContainer(
        container_id=view.name,
        name=view.name,
        labels=original_labels(metadata.get("labels"), metadata.get("annotations")),
        running=view.alive,
        image_reference=container.get("image", ""),
        image_id=view.image_id,
        env=env,
        endpoint=endpoint if view.alive else None,
        image_digest=repo_digest(view.image_id),
    )


def repo_digest(image_id: str) -> str:
    """The digest in a container status's imageID (`repo@sha256:…`); empty for an image the
    node has by config id only (one imported, never pulled)."""
    _, at, digest = image_id.rpartition("@")
    return digest if at and digest.startswith("sha256:") else ""
