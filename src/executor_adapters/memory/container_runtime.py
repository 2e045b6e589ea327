"""A `ContainerRuntime` that runs nothing, for tests of code that manages performers.

It follows the same contract as the Docker adapter (tests/contract holds both to it): unknown
images raise `ImageNotFound`, names are unique, a failed start leaves nothing behind, removal is
idempotent. Tests can also crash a container or make the next start fail.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
from collections.abc import Iterable, Mapping

import attrs

from executor_core.errors import (
    ContainerNotFound,
    ContainerRuntimeError,
    ContainerStartFailed,
    ImageNotFound,
    RuntimeUnavailable,
)
from executor_core.performers import ContainerSpec, Endpoint, PerformerImage, RunningContainer
from executor_core.ports import NetworkRef

__all__ = ["ContainerRecord", "InMemoryContainerRuntime", "NetworkRecord"]

_LOOPBACK = "127.0.0.1"


@attrs.define
class ContainerRecord:
    """A container the fake runtime started, as a test may inspect it."""

    container_id: str
    spec: ContainerSpec
    endpoint: Endpoint
    running: bool = True
    removed_with_grace: float | None = None
    """The grace it was removed with; set only on records in `removed_containers`."""

    @property
    def name(self) -> str:
        """The container name from its spec."""
        return self.spec.name

    @property
    def labels(self) -> dict[str, str]:
        """The labels from its spec."""
        return self.spec.labels


@attrs.frozen
class NetworkRecord:
    """A network the fake runtime created."""

    network_id: str
    name: str
    labels: dict[str, str]


def _references(images: Iterable[PerformerImage | str]) -> frozenset[str]:
    return frozenset(i.reference if isinstance(i, PerformerImage) else i for i in images)


def _fake_id(kind: str, number: int) -> str:
    """Return a 64-hex id shaped like Docker's, the same in every run for predictable tests."""
    return hashlib.sha256(f"{kind}-{number}".encode()).hexdigest()


class InMemoryContainerRuntime:
    """Record networks and containers in memory and hand out unique ids and loopback ports.

    Nothing listens on the ports it hands out.

    Args:
        available_images: Images (or references) that can be started; others raise
            `ImageNotFound`. None, the default, makes every image available.
        exiting_images: Images whose process exits at once, so starting them raises
            `ContainerStartFailed`, as a broken performer image would.
        first_port: The first host port handed out; each container gets the next one.
    """

    def __init__(
        self,
        available_images: Iterable[PerformerImage | str] | None = None,
        *,
        exiting_images: Iterable[PerformerImage | str] = (),
        first_port: int = 49152,
    ) -> None:
        self._available = None if available_images is None else _references(available_images)
        self._exiting = _references(exiting_images)
        self._ports = itertools.count(first_port)
        self._ids = itertools.count(1)
        self._containers: dict[str, ContainerRecord] = {}
        self._networks: dict[str, NetworkRecord] = {}
        self._removed: list[ContainerRecord] = []
        self._start_failures: collections.deque[Exception] = collections.deque()
        self._closed = False

    @property
    def containers(self) -> dict[str, ContainerRecord]:
        """The containers that exist now (running or crashed), by id."""
        return dict(self._containers)

    @property
    def networks(self) -> dict[str, NetworkRecord]:
        """The networks that exist now, by id."""
        return dict(self._networks)

    @property
    def removed_containers(self) -> list[ContainerRecord]:
        """Containers removed so far, oldest first, with the grace each was removed with."""
        return list(self._removed)

    @property
    def closed(self) -> bool:
        """Tell whether `aclose` was called."""
        return self._closed

    def crash(self, container_id: str) -> None:
        """Make a container's process exit; it stays listed until removed, as with Docker."""
        try:
            self._containers[container_id].running = False
        except KeyError:
            raise ContainerNotFound(f"no container {container_id}") from None

    def fail_next_start(self, exc: Exception) -> None:
        """Make the next `start_container` raise `exc` without creating anything (queued)."""
        self._start_failures.append(exc)

    async def _checkpoint(self) -> None:
        # Yield like a real engine call would, so races in the code under test can show.
        await asyncio.sleep(0)
        if self._closed:
            raise RuntimeUnavailable("the container runtime is closed")

    async def ensure_network(self, name: str, labels: Mapping[str, str]) -> NetworkRef:
        """Return the network called exactly `name`, creating it if it is missing."""
        await self._checkpoint()
        for network in self._networks.values():
            if network.name == name:
                return NetworkRef(network.network_id, name, created=False)
        network = NetworkRecord(_fake_id("network", next(self._ids)), name, dict(labels))
        self._networks[network.network_id] = network
        return NetworkRef(network.network_id, name, created=True)

    async def remove_network(self, network_id: str) -> None:
        """Remove a network; refuse while a running container uses it, like Docker."""
        await self._checkpoint()
        network = self._networks.get(network_id)
        if network is None:
            return
        if any(c.running and self._joins(c, network) for c in self._containers.values()):
            raise ContainerRuntimeError(f"remove network {network_id}: it has active endpoints")
        del self._networks[network_id]

    @staticmethod
    def _joins(container: ContainerRecord, network: NetworkRecord) -> bool:
        return container.spec.network in {network.name, network.network_id}

    async def start_container(self, spec: ContainerSpec) -> RunningContainer:
        """Record a running container, or fail as Docker would, leaving nothing behind."""
        await self._checkpoint()
        if self._start_failures:
            raise self._start_failures.popleft()
        reference = spec.image.reference
        if self._available is not None and reference not in self._available:
            raise ImageNotFound(f"pull image {reference}: not available")
        if any(c.name == spec.name for c in self._containers.values()):
            raise ContainerRuntimeError(f"create container {spec.name}: the name is in use")
        if spec.network is not None and not any(
            spec.network in {n.name, n.network_id} for n in self._networks.values()
        ):
            raise ContainerStartFailed(
                f"start container {spec.name}: network {spec.network} not found"
            )
        if reference in self._exiting:
            raise ContainerStartFailed(
                f"container {spec.name} exited with code 1 before it was ready"
            )
        record = ContainerRecord(
            container_id=_fake_id("container", next(self._ids)),
            spec=spec,
            endpoint=Endpoint(_LOOPBACK, next(self._ports)),
        )
        self._containers[record.container_id] = record
        return RunningContainer(record.container_id, spec.name, record.endpoint)

    async def is_running(self, container_id: str) -> bool:
        """Tell whether the container exists and has not crashed."""
        await self._checkpoint()
        record = self._containers.get(container_id)
        return record is not None and record.running

    async def remove_container(self, container_id: str, *, grace_seconds: float) -> None:
        """Remove the container, noting the grace; one that is already gone is fine."""
        await self._checkpoint()
        record = self._containers.pop(container_id, None)
        if record is None:
            return
        record.running = False
        record.removed_with_grace = grace_seconds
        self._removed.append(record)

    async def list_containers(self, label_selector: Mapping[str, str]) -> list[str]:
        """Return the ids of containers, running or not, that carry all these labels."""
        if not label_selector:
            raise ValueError("list_containers needs at least one label to select on")
        await self._checkpoint()
        wanted = label_selector.items()
        return [c.container_id for c in self._containers.values() if wanted <= c.labels.items()]

    async def aclose(self) -> None:
        """Close the runtime; later calls raise `RuntimeUnavailable`."""
        self._closed = True
