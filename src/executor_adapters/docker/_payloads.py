"""Docker Engine API bodies we send and the few fields we read back, kept away from the I/O code.

Reading inspect results into small attrs values here means the runtime never passes the engine's
untyped JSON on, and these rules can be unit-tested without an engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from executor_core.performers import PERFORMER_PORT, ContainerSpec

__all__ = [
    "LOOPBACK",
    "ContainerState",
    "container_config",
    "image_is_present",
    "network_config",
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
