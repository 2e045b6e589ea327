"""Docker Engine API bodies we send and the few fields we read back, kept away from the I/O code.

Reading inspect results into small attrs values here means the runtime never passes the engine's
untyped JSON on, and these rules can be unit-tested without an engine.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from executor_adapters.docker._confinement import host_config
from executor_core.performers import PERFORMER_PORT, ContainerSpec, PerformerImage
from executor_core.ports import ContainerEvent, ContainerEventKind

__all__ = [
    "LOOPBACK",
    "RELAY_FOR_LABEL",
    "RELAY_ROLE",
    "ROLE_LABEL",
    "ContainerState",
    "container_config",
    "container_event",
    "env_pairs",
    "event_filters",
    "event_time_ns",
    "events_since",
    "image_is_present",
    "network_config",
    "parse_reference",
    "relay_of",
    "repo_digest",
]

LOOPBACK = "127.0.0.1"
_PORT_KEY = f"{PERFORMER_PORT}/tcp"
_DOCKER_HUB_PREFIXES = ("docker.io/library/", "index.docker.io/library/", "docker.io/")


ROLE_LABEL = "com.eigenlayer.hourglass.role"
RELAY_ROLE = "relay"
RELAY_FOR_LABEL = "com.eigenlayer.hourglass.relay-for"
"""On a relay container (`_relay`): the id of the performer container whose port it publishes."""


def container_config(
    spec: ContainerSpec, *, host_cpus: int | None = None, publish: bool = True
) -> dict[str, Any]:
    """Build the create body for a performer container, confined as `spec.hardening` says.

    The port is published on loopback only (the performer's gRPC has no auth); with `publish`
    false (a container on an internal network, whose relay publishes it) not at all. The daemon
    neither restarts nor auto-removes it: the executor owns the lifecycle, so a crashed container
    stays inspectable until the executor removes it. `host_cpus` caps the CPU limit.
    """
    fields: dict[str, Any] = {
        "RestartPolicy": {"Name": "no"},
        "AutoRemove": False,
        **host_config(spec.hardening, host_cpus=host_cpus),
    }
    if publish:
        fields["PortBindings"] = {_PORT_KEY: [{"HostIp": LOOPBACK, "HostPort": ""}]}
    if spec.network is not None:
        fields["NetworkMode"] = spec.network
    body: dict[str, Any] = {
        "Image": spec.image.reference,
        "Labels": dict(spec.labels),
        "ExposedPorts": {_PORT_KEY: {}},
        "HostConfig": fields,
        "Env": [f"{name}={value}" for name, value in spec.env],
    }
    if spec.hardening.user:
        body["User"] = spec.hardening.user
    return body


def network_config(
    name: str, labels: Mapping[str, str], *, internal: bool = False
) -> dict[str, Any]:
    """Build the create body for a bridge network; CheckDuplicate makes a racing create fail.

    The engine drops whatever the containers of an `internal` network send beyond it.
    """
    return {
        "Name": name,
        "Driver": "bridge",
        "Internal": internal,
        "Labels": dict(labels),
        "CheckDuplicate": True,
    }


def relay_of(labels: object) -> str | None:
    """Return the performer container a container is the relay of, by its labels (or an
    event's attributes); None if it is no relay."""
    if not isinstance(labels, Mapping) or labels.get(ROLE_LABEL) != RELAY_ROLE:
        return None
    performer = labels.get(RELAY_FOR_LABEL)
    return str(performer) if performer else None


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


def env_pairs(entries: Iterable[object]) -> tuple[tuple[str, str], ...]:
    """`NAME=value` strings of a container's Config.Env as pairs, in order."""
    pairs = []
    for entry in entries:
        name, _, value = str(entry).partition("=")
        pairs.append((name, value))
    return tuple(pairs)


def parse_reference(reference: str) -> PerformerImage | None:
    """The image a `repo@sha256:…` or `repo:tag` reference names; None if it is neither."""
    repository, at, digest = reference.partition("@")
    try:
        if at:
            return PerformerImage(repository, digest=digest)
        head, colon, tag = reference.rpartition(":")
        if colon and "/" not in tag:
            return PerformerImage(head, tag=tag)
        return PerformerImage(reference, tag="latest")
    except ValueError:
        return None


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
    # A relay's end is its performer's: nothing reaches the performer without it.
    return ContainerEvent(relay_of(attributes) or str(container_id), kind, exit_code)
