"""Docker Engine API bodies we send and the few fields we read back, kept away from the I/O code.

Reading inspect results into small attrs values here means the runtime never passes the engine's
untyped JSON on, and these rules can be unit-tested without an engine.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import attrs

from executor_core.performers import PERFORMER_PORT, ContainerSpec
from executor_core.ports import ContainerEvent, ContainerEventKind

__all__ = [
    "LOOPBACK",
    "ContainerState",
    "container_config",
    "container_event",
    "event_filters",
    "event_time_ns",
    "events_since",
    "image_is_present",
    "network_config",
    "repo_digest",
]

LOOPBACK = "127.0.0.1"
_PORT_KEY = f"{PERFORMER_PORT}/tcp"
_DOCKER_HUB_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/")


def container_config(spec: ContainerSpec) -> dict[str, Any]:
    """Build the create body for a performer container.

    The port is published on loopback only (the performer's gRPC has no auth), and the daemon
    neither restarts nor auto-removes it: the executor owns the lifecycle, so a crashed container
    stays inspectable until the executor removes it.
    """
    host_config: dict[str, Any] = {
        "PortBindings": {_PORT_KEY: [{"HostIp": LOOPBACK, "HostPort": ""}]},
        "RestartPolicy": {"Name": "no"},
        "AutoRemove": False,
    }
    if spec.network is not None:
        host_config["NetworkMode"] = spec.network
    return {
        "Image": spec.image.reference,
        "Labels": dict(spec.labels),
        "ExposedPorts": {_PORT_KEY: {}},
        "HostConfig": host_config,
        "Env": [f"{name}={value}" for name, value in spec.env],
    }


def network_config(name: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """Build the create body for a bridge network; CheckDuplicate makes a racing create fail."""
    return {"Name": name, "Driver": "bridge", "Labels": dict(labels), "CheckDuplicate": True}


@attrs.frozen
class ContainerState:
    """What the start-up wait needs from `GET /containers/{id}/json`."""

    running: bool
    status: str
    exit_code: int | None
    host_port: int | None
    image_id: str = ""
    """The id (`sha256:…` of its config) of the image the container was created from."""

    @property
    def exited(self) -> bool:
        """Tell whether the process has ended, so waiting longer cannot help."""
        return not self.running and self.status in {"exited", "dead"}

    @classmethod
    def from_inspect(cls, info: Mapping[str, Any]) -> ContainerState:
        """Read the state and the loopback host port of the performer port from inspect data."""
        state = info.get("State") or {}
        ports = (info.get("NetworkSettings") or {}).get("Ports") or {}
        host_port = None
        for binding in ports.get(_PORT_KEY) or ():
            if binding.get("HostIp") == LOOPBACK and binding.get("HostPort"):
                host_port = int(binding["HostPort"])
                break
        exit_code = state.get("ExitCode")
        return cls(
            running=bool(state.get("Running")),
            status=str(state.get("Status", "")),
            exit_code=exit_code if isinstance(exit_code, int) else None,
            host_port=host_port,
            image_id=str(info.get("Image") or ""),
        )


def _familiar(reference: str) -> str:
    """Drop the Docker Hub prefixes the engine leaves out of RepoTags and RepoDigests."""
    for prefix in _DOCKER_HUB_PREFIXES:
        if reference.startswith(prefix):
            return reference[len(prefix) :]
    return reference


def image_is_present(info: Mapping[str, Any], reference: str) -> bool:
    """Tell whether inspected image data is exactly `reference`.

    A digest reference must be among RepoDigests and a tag among RepoTags, so a local image is
    used as it is (never re-pulled) only when it really is the one asked for.
    """
    field = "RepoDigests" if "@" in reference else "RepoTags"
    wanted = _familiar(reference)
    return any(_familiar(known) == wanted for known in info.get(field) or ())


def repo_digest(info: Mapping[str, Any], repository: str, *, preferred: str = "") -> str:
    """Return the digest inspected image data gives for `repository` in its RepoDigests.

    That is the manifest digest the registry serves, which a pull by tag or by digest records.
    `preferred` wins when it is among them (an image pushed as several manifests); an image
    built locally and never pushed or pulled has none, and gives "".
    """
    wanted = _familiar(repository)
    found = [
        digest
        for name, _, digest in (
            str(known).partition("@") for known in info.get("RepoDigests") or ()
        )
        if digest and _familiar(name) == wanted
    ]
    if preferred and preferred in found:
        return preferred
    return found[0] if found else ""


_EVENT_KINDS = {kind.value: kind for kind in ContainerEventKind}


def event_filters(labels: Mapping[str, str]) -> str:
    """Build the `filters` query of GET /events: die and oom of containers with every label."""
    return json.dumps(
        {
            "type": ["container"],
            "event": sorted(_EVENT_KINDS),
            "label": [f"{key}={value}" for key, value in labels.items()],
        }
    )


def events_since(time_ns: int) -> str:
    """Format a Unix time in nanoseconds as the `since` query of GET /events takes it."""
    seconds, nanos = divmod(time_ns, 1_000_000_000)
    return f"{seconds}.{nanos:09d}"


def event_time_ns(message: Mapping[str, Any]) -> int | None:
    """Return when the engine recorded an event, in Unix nanoseconds, if the message says."""
    time_nano = message.get("timeNano")
    return time_nano if isinstance(time_nano, int) else None


def container_event(message: Mapping[str, Any], labels: Mapping[str, str]) -> ContainerEvent | None:
    """Read a die or oom event of a container carrying all `labels`; None for anything else.

    The engine filters already; checking again keeps a misbehaving filter from leaking another
    executor's containers into the stream. `exitCode` is a string attribute of die events only.
    """
    if message.get("Type") != "container":
        return None
    kind = _EVENT_KINDS.get(str(message.get("Action", "")))
    actor = message.get("Actor") or {}
    container_id = actor.get("ID") or message.get("id")
    attributes = actor.get("Attributes") or {}
    if kind is None or not container_id:
        return None
    if not all(attributes.get(key) == value for key, value in labels.items()):
        return None
    exit_code = None
    if kind is ContainerEventKind.DIED:
        with contextlib.suppress(ValueError):
            exit_code = int(str(attributes.get("exitCode")))
    return ContainerEvent(str(container_id), kind, exit_code)
