"""A `ContainerRuntime` that runs nothing, for tests of code that manages performers.

It follows the same contract as the Docker adapter (tests/contract holds both to it): unknown
images raise `ImageNotFound`, images in an unreachable registry `RegistryUnavailable`, an image is
pulled once, names are unique, a failed start leaves nothing behind, removal is idempotent, and
`events` reports deaths as the engine does, and a started container carries the repository
digest of its image: the digest it was asked for by, the one `repo_digests` gives its tag, or none
(an image built locally). Tests can also crash a container (optionally as an OOM kill) or make the
next start fail.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import itertools
from collections.abc import AsyncGenerator, Iterable, Mapping

import attrs

from executor_core.errors import (
    ContainerNotFound,
    ContainerRuntimeError,
    ContainerStartFailed,
    ImageNotFound,
    RegistryUnavailable,
    RuntimeUnavailable,
)
from executor_core.performers import ContainerSpec, Endpoint, PerformerImage, RunningContainer
from executor_core.ports import ContainerEvent, ContainerEventKind, FoundContainer, NetworkRef

__all__ = ["ContainerRecord", "InMemoryContainerRuntime", "NetworkRecord"]

_LOOPBACK = "127.0.0.1"
_KILLED = 137
"""The exit code of a process killed by SIGKILL (128 + 9), as `docker kill` and OOM kills give."""
_EXITED_AT_ONCE = 1
"""The exit code of a process in one of the `exiting_images`."""


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
    internal: bool = False
    """Made with no route out of the host."""


def _internal_mismatch(name: str, internal: bool) -> str:
    """The Docker adapter's words for a network that exists with the other `Internal` flag."""
    wanted, found = ("internal", "not internal") if internal else ("not internal", "internal")
    return (
        f"network {name} exists and is {found}, but the performer network must be {wanted}: "
        "remove it, or change performerNetworkInternal"
    )


def _references(images: Iterable[PerformerImage | str]) -> frozenset[str]:
    return frozenset(i.reference if isinstance(i, PerformerImage) else i for i in images)


def _fake_id(kind: str, number: int) -> str:
    """Return a 64-hex id shaped like Docker's, the same in every run for predictable tests."""
    return hashlib.sha256(f"{kind}-{number}".encode()).hexdigest()


def registry_of(reference: str) -> str:
    """Return the registry host of an image reference, by Docker's rule; Docker Hub is docker.io.

    The first path component names a registry when it has a dot or a port, or is localhost.
    """
    first, slash, _ = reference.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


@attrs.define
class _Subscription:
    labels: dict[str, str]
    queue: asyncio.Queue[ContainerEvent | None] = attrs.field(factory=asyncio.Queue)


class InMemoryContainerRuntime:
    """Record networks and containers in memory and hand out unique ids and loopback ports.

    Nothing listens on the ports it hands out.

    Args:
        available_images: Images (or references) that can be started; others raise
            `ImageNotFound`. None, the default, makes every image available.
        exiting_images: Images whose process exits at once, so starting them raises
            `ContainerStartFailed`, as a broken performer image would.
        unreachable_registries: Registry hosts (``"127.0.0.1:1"``, ``"registry.example"``) that
            cannot be reached: pulling an image from one raises `RegistryUnavailable`. Images that
            were pulled before stay usable, as they would with Docker.
        first_port: The first host port handed out; each container gets the next one.
        repo_digests: The digest (``sha256:…``) the registry serves for a tag reference
            (``"127.0.0.1:5000/avs:v1"``), which a container of it reports as its
            `RunningContainer.image_digest`. A tag not listed is treated as an image built
            locally, with no digest; an image by digest reports that digest.
    """

    def __init__(
        self,
        available_images: Iterable[PerformerImage | str] | None = None,
        *,
        exiting_images: Iterable[PerformerImage | str] = (),
        unreachable_registries: Iterable[str] = (),
        first_port: int = 49152,
        repo_digests: Mapping[str, str] | None = None,
    ) -> None:
        self._available = None if available_images is None else _references(available_images)
        self._exiting = _references(exiting_images)
        self.repo_digests: dict[str, str] = dict(repo_digests or {})
        """Tag reference to the digest its registry serves; tests may change it."""
        self.unreachable_registries: set[str] = set(unreachable_registries)
        """Registry hosts that cannot be reached now; tests may change it at any time."""
        self._present: set[str] = set()
        self._pulls: list[str] = []
        self._subscriptions: list[_Subscription] = []
        self._ports = itertools.count(first_port)
        self._ids = itertools.count(1)
        self._containers: dict[str, ContainerRecord] = {}
        self._networks: dict[str, NetworkRecord] = {}
        self._removed: list[ContainerRecord] = []
        self._start_failures: collections.deque[Exception] = collections.deque()
        self._closed = False
        self.engine_down = False
        self.image_generations: dict[str, int] = {}
        self._image_of: dict[str, str] = {}
        """While true, every call raises `RuntimeUnavailable`, as when dockerd is stopped;
        tests may change it at any time."""

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

    @property
    def pulled_images(self) -> list[str]:
        """References pulled so far, oldest first; an image already present is not pulled again."""
        return list(self._pulls)

    @property
    def active_event_streams(self) -> int:
        """How many `events` iterators are subscribed now."""
        return len(self._subscriptions)

    def crash(self, container_id: str, *, exit_code: int = _KILLED, oom: bool = False) -> None:
        """Make a container's process exit; it stays listed until removed, as with Docker.

        Subscribers whose labels the container carries get DIED with `exit_code` (default 137,
        as after `docker kill`); with `oom`, OOM_KILLED first and then DIED with 137, which is
        what the engine reports for a kernel OOM kill. Crashing a container that no longer runs
        changes nothing and reports nothing.
        """
        try:
            record = self._containers[container_id]
        except KeyError:
            raise ContainerNotFound(f"no container {container_id}") from None
        if not record.running:
            return
        record.running = False
        if oom:
            self._publish(
                record.labels, ContainerEvent(container_id, ContainerEventKind.OOM_KILLED)
            )
            exit_code = _KILLED
        self._publish(
            record.labels, ContainerEvent(container_id, ContainerEventKind.DIED, exit_code)
        )

    def _publish(self, labels: Mapping[str, str], event: ContainerEvent) -> None:
        for subscription in self._subscriptions:
            if subscription.labels.items() <= labels.items():
                subscription.queue.put_nowait(event)

    def fail_next_start(self, exc: Exception) -> None:
        """Make the next `start_container` raise `exc` without creating anything (queued)."""
        self._start_failures.append(exc)

    async def _checkpoint(self) -> None:
        # Yield like a real engine call would, so races in the code under test can show.
        await asyncio.sleep(0)
        if self._closed:
            raise RuntimeUnavailable("the container runtime is closed")
        if self.engine_down:
            raise RuntimeUnavailable("the container engine cannot be reached")

    async def ensure_network(
        self, name: str, labels: Mapping[str, str], *, internal: bool = False
    ) -> NetworkRef:
        """Return the network called exactly `name`, creating it if it is missing; refuse one
        that exists as internal when `internal` is false, or the other way round."""
        await self._checkpoint()
        for network in self._networks.values():
            if network.name == name:
                if network.internal != internal:
                    raise ContainerRuntimeError(_internal_mismatch(name, internal))
                ours = bool(labels) and labels.items() <= network.labels.items()
                return NetworkRef(network.network_id, name, created=ours)
        network = NetworkRecord(
            _fake_id("network", next(self._ids)), name, dict(labels), internal=internal
        )
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

    async def ensure_image(self, image: PerformerImage) -> None:
        """Pull the image unless it is present; fail as a pull from its registry would."""
        await self._checkpoint()
        self._pull_if_missing(image.reference)

    def _pull_if_missing(self, reference: str) -> None:
        if reference in self._present:
            return
        registry = registry_of(reference)
        if registry in self.unreachable_registries:
            raise RegistryUnavailable(
                f"pull image {reference}: dial tcp {registry}: connect: connection refused"
            )
        if self._available is not None and reference not in self._available:
            raise ImageNotFound(f"pull image {reference}: manifest unknown")
        self._pulls.append(reference)
        self._present.add(reference)

    async def start_container(self, spec: ContainerSpec) -> RunningContainer:
        """Record a running container, or fail as Docker would, leaving nothing behind.

        An image in `exiting_images` fails the start; like Docker's, its container dies first, so
        subscribers get a DIED event (exit code 1) for an id the caller never sees.
        """
        await self._checkpoint()
        if self._start_failures:
            raise self._start_failures.popleft()
        reference = spec.image.reference
        self._pull_if_missing(reference)
        if any(c.name == spec.name for c in self._containers.values()):
            raise ContainerRuntimeError(f"create container {spec.name}: the name is in use")
        if spec.network is not None and not any(
            spec.network in {n.name, n.network_id} for n in self._networks.values()
        ):
            raise ContainerStartFailed(
                f"start container {spec.name}: network {spec.network} not found"
            )
        if reference in self._exiting:
            died = ContainerEvent(
                _fake_id("container", next(self._ids)), ContainerEventKind.DIED, _EXITED_AT_ONCE
            )
            self._publish(spec.labels, died)
            raise ContainerStartFailed(
                f"container {spec.name} exited with code 1 before it was ready"
            )
        record = ContainerRecord(
            container_id=_fake_id("container", next(self._ids)),
            spec=spec,
            endpoint=Endpoint(_LOOPBACK, next(self._ports)),
        )
        self._containers[record.container_id] = record
        self._image_of[record.container_id] = self._image_id(reference)
        digest = spec.image.digest or self.repo_digests.get(reference, "")
        return RunningContainer(
            record.container_id, spec.name, record.endpoint, image_digest=digest
        )

    async def is_running(self, container_id: str) -> bool:
        """Tell whether the container exists and has not crashed."""
        await self._checkpoint()
        record = self._containers.get(container_id)
        return record is not None and record.running

    async def remove_container(self, container_id: str, *, grace_seconds: float) -> None:
        """Remove the container, noting the grace; one that is already gone is fine.

        A running container dies on the way, as with Docker: subscribers get DIED with exit code
        0, that of a performer that stops cleanly on SIGTERM.
        """
        await self._checkpoint()
        record = self._containers.pop(container_id, None)
        if record is None:
            return
        if record.running:
            self._publish(record.labels, ContainerEvent(container_id, ContainerEventKind.DIED, 0))
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

    async def find_containers(self, labels: Mapping[str, str]) -> list[FoundContainer]:
        """Every container, running or not, with all `labels`, as `docker inspect` shows it."""
        found = []
        for container_id in await self.list_containers(labels):
            record = self._containers[container_id]
            image = record.spec.image
            found.append(
                FoundContainer(
                    container_id=container_id,
                    name=record.spec.name,
                    labels=dict(record.spec.labels),
                    running=record.running,
                    image_reference=image.reference,
                    image_id=self._image_of[container_id],
                    env=record.spec.env,
                    endpoint=record.endpoint if record.running else None,
                    image_digest=image.digest or self.repo_digests.get(image.reference, ""),
                )
            )
        return found

    async def local_image_id(self, reference: str) -> str | None:
        """The fake id of `reference` once it was pulled (or is built in); None before."""
        await self._checkpoint()
        if reference not in self._present:
            return None
        return self._image_id(reference)

    def _image_id(self, reference: str) -> str:
        """A stable fake image id per reference; `retag` moves a tag to a new image."""
        generation = self.image_generations.get(reference, 0)
        return "sha256:" + hashlib.sha256(f"{reference}#{generation}".encode()).hexdigest()

    def retag(self, reference: str) -> None:
        """Point a tag at a new image, as rebuilding and re-tagging it does."""
        self.image_generations[reference] = self.image_generations.get(reference, 0) + 1

    async def events(self, labels: Mapping[str, str]) -> AsyncGenerator[ContainerEvent, None]:
        """Yield die and OOM events of containers carrying every label, until cancelled.

        The subscription starts when iteration begins and ends when the iterator is cancelled or
        closed; after `aclose` the iterator raises `RuntimeUnavailable`.

        Raises:
            ValueError: for an empty selector, as the Docker adapter refuses it.
        """
        if not labels:
            raise ValueError("events needs at least one label to select on")
        if self._closed:
            raise RuntimeUnavailable("the container runtime is closed")
        subscription = _Subscription(dict(labels))
        self._subscriptions.append(subscription)
        try:
            while (event := await subscription.queue.get()) is not None:
                yield event
            raise RuntimeUnavailable("the container runtime was closed")
        finally:
            self._subscriptions.remove(subscription)

    async def aclose(self) -> None:
        """Close the runtime; later calls and open `events` iterators raise `RuntimeUnavailable`."""
        self._closed = True
        for subscription in self._subscriptions:
            subscription.queue.put_nowait(None)
