"""`ContainerRuntime` on a Docker engine, through aiodocker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Mapping
from typing import Any, TypeVar

import aiodocker
from aiodocker.containers import DockerContainer
from aiodocker.events import DockerEvents
from aiodocker.networks import DockerNetwork

from executor_adapters.docker._errors import (
    ErrorFactory,
    NetworkNotFound,
    pull_failure,
    translate_errors,
)
from executor_adapters.docker._payloads import (
    LOOPBACK,
    RELAY_FOR_LABEL,
    ContainerState,
    container_config,
    container_event,
    env_pairs,
    event_filters,
    event_time_ns,
    events_since,
    image_is_present,
    network_config,
    parse_reference,
    relay_of,
    repo_digest,
)
from executor_adapters.docker._relay import internal_mismatch, relay_config
from executor_core.errors import (
    ContainerNotFound,
    ContainerRuntimeError,
    ContainerStartFailed,
    ImageNotFound,
    RuntimeUnavailable,
)
from executor_core.performers import (
    PERFORMER_PORT,
    ContainerSpec,
    Endpoint,
    PerformerImage,
    RunningContainer,
)
from executor_core.ports import ContainerEvent, FoundContainer, NetworkRef

__all__ = ["AiodockerContainerRuntime"]

log = logging.getLogger("executor_adapters.docker")

T = TypeVar("T")

_LOG_TAIL_LINES = 20
_LOG_TAIL_CHARS = 2000


class AiodockerContainerRuntime:
    """Run performer containers on a Docker engine.

    Containers publish the performer port on 127.0.0.1 only, with no restart policy and no
    auto-remove, because the executor supervises and removes them itself. Every failure reaches the
    caller as a `ContainerRuntimeError`; aiodocker types never leave this adapter.

    Args:
        docker: A client to use; it stays the caller's to close. Without one, a client is made on
            first use from the Docker context, DOCKER_HOST or the local socket, and `aclose`
            closes it.
        start_timeout: Seconds a started container has to be running with its port published.
        poll_interval: Seconds between inspections while waiting for that.
        events_reconnect_delay: Seconds `events` waits before it reconnects a broken stream.
        relay_image: An image with python3 in which the relays of performers on internal
            networks run (`_relay`); without one, a container on an internal network is refused.
    """

    def __init__(
        self,
        docker: aiodocker.Docker | None = None,
        *,
        start_timeout: float = 30.0,
        poll_interval: float = 0.2,
        events_reconnect_delay: float = 1.0,
        relay_image: PerformerImage | None = None,
    ) -> None:
        if start_timeout <= 0 or poll_interval <= 0 or events_reconnect_delay <= 0:
            raise ValueError(
                "start_timeout, poll_interval and events_reconnect_delay must be positive"
            )
        self._docker = docker
        self._owns_client = docker is None
        self._start_timeout = start_timeout
        self._poll_interval = poll_interval
        self._events_reconnect_delay = events_reconnect_delay
        self._event_streams: set[DockerEvents] = set()
        self._closed = False
        self._relay_image = relay_image
        self._host_cpus: int | None = None

    @property
    def active_event_streams(self) -> int:
        """How many `events` iterators hold a subscription to the engine now."""
        return len(self._event_streams)

    def _client(self) -> aiodocker.Docker:
        if self._closed:
            raise RuntimeUnavailable("the container runtime is closed")
        if self._docker is None:
            with translate_errors("connect to the Docker engine"):
                try:
                    self._docker = aiodocker.Docker()
                # With neither DOCKER_HOST nor a socket, aiodocker fails an assert (ValueError
                # under -O); a DOCKER_HOST without a known scheme gives ValueError.
                except (AssertionError, ValueError) as exc:
                    raise RuntimeUnavailable(
                        f"connect to the Docker engine: no usable DOCKER_HOST or socket ({exc})"
                    ) from exc
        return self._docker

    async def ensure_network(
        self, name: str, labels: Mapping[str, str], *, internal: bool = False
    ) -> NetworkRef:
        """Return the network called exactly `name`, creating a labelled bridge if it is missing.

        An `internal` one has no route out of the host; one that exists with the other
        setting is refused rather than used as it is.
        """
        docker = self._client()
        found = await self._find_network(docker, name)
        if found is not None:
            network_id, existing = found
            if await self._is_internal(docker, network_id) != internal:
                raise ContainerRuntimeError(internal_mismatch(name, internal))
            ours = bool(labels) and labels.items() <= existing.items()
            return NetworkRef(network_id, name, created=ours)
        try:
            with translate_errors(f"create network {name}"):
                network = await docker.networks.create(
                    network_config(name, labels, internal=internal)
                )
        except ContainerRuntimeError:
            # Someone else may have created it since the lookup (the engine answers 409).
            found = await self._find_network(docker, name)
            if found is None:
                raise
            if await self._is_internal(docker, found[0]) != internal:
                raise ContainerRuntimeError(internal_mismatch(name, internal)) from None
            return NetworkRef(found[0], name, created=False)
        return NetworkRef(network.id, name, created=True)

    async def _find_network(
        self, docker: aiodocker.Docker, name: str
    ) -> tuple[str, dict[str, str]] | None:
        # The engine's name filter matches substrings, so compare the names exactly afterwards.
        with translate_errors(f"look up network {name}"):
            candidates = await docker.networks.list(filters={"name": name})
        for candidate in candidates:
            if candidate.get("Name") == name:
                return str(candidate["Id"]), dict(candidate.get("Labels") or {})
        return None

    @staticmethod
    async def _is_internal(
        docker: aiodocker.Docker,
        network: str,
        not_found: ErrorFactory = NetworkNotFound,
    ) -> bool:
        """Tell whether a network (by id or exact name) is internal."""
        with translate_errors(f"inspect network {network}", not_found=not_found):
            info = await DockerNetwork(docker, network).show()  # type: ignore[no-untyped-call]
        return bool(info.get("Internal"))

    async def _cpus(self, docker: aiodocker.Docker) -> int | None:
        """The engine's CPU count, asked once; None if it would not say (no cap then)."""
        if self._host_cpus is None:
            with contextlib.suppress(ContainerRuntimeError), translate_errors("read engine info"):
                count = (await docker.system.info()).get("NCPU")
                if isinstance(count, int) and count > 0:
                    self._host_cpus = count
        return self._host_cpus

    async def remove_network(self, network_id: str) -> None:
        """Remove a network; one that is already gone is fine."""
        docker = self._client()
        with (
            contextlib.suppress(NetworkNotFound),
            translate_errors(f"remove network {network_id}", not_found=NetworkNotFound),
        ):
            network = await docker.networks.get(network_id)
            await network.delete()

    async def ensure_image(self, image: PerformerImage) -> None:
        """Pull the image unless the engine has exactly it (by digest, when it has one).

        Raises `RegistryUnavailable` when the registry cannot be reached and `ImageNotFound` when
        it does not have the repository, tag or digest.
        """
        await self._ensure_image(self._client(), image.reference)

    async def start_container(self, spec: ContainerSpec) -> RunningContainer:
        """Pull the image if needed, create and start the container, and wait until it serves.

        A container that fails after creation, including by cancellation, is force-removed before
        the error propagates, so a failed start leaves nothing behind. The result carries the
        repository digest of the image the container was created from (by image id, so a tag
        that moved meanwhile cannot mislead it).
        """
        if spec.env_references:
            names = ", ".join(reference.name for reference in spec.env_references)
            raise ContainerStartFailed(
                f"{spec.name}: {names} read Kubernetes Secrets or ConfigMaps, which Docker has "
                "not; they need deploymentMode kubernetes"
            )
        docker = self._client()
        await self._ensure_image(docker, spec.image.reference)
        relay_image = None
        if spec.network is not None and await self._is_internal(
            docker, spec.network, ContainerStartFailed
        ):
            relay_image = self._relay_image_for(spec.network)
            await self._ensure_image(docker, relay_image.reference)
        cpus = await self._cpus(docker)
        body = container_config(spec, host_cpus=cpus, publish=relay_image is None)
        with translate_errors(f"create container {spec.name}", not_found=ImageNotFound):
            container = await _engine_answer(
                docker.containers.create(body, name=spec.name), undo=self._discard
            )
        relay: DockerContainer | None = None
        try:
            with translate_errors(
                f"start container {spec.name}",
                not_found=ContainerStartFailed,
                failed=ContainerStartFailed,
            ):
                await _engine_answer(container.start())
            if relay_image is not None:
                relay = await self._start_relay(docker, spec, container.id, relay_image, cpus)
            state, port = await self._wait_until_serving(container, spec.name, relay)
            digest = await self._repo_digest(docker, state.image_id, spec.image)
        except BaseException:
            if relay is not None:
                await self._discard(relay)
            await self._discard(container)
            raise
        return RunningContainer(
            container.id, spec.name, Endpoint(LOOPBACK, port), image_digest=digest
        )

    def _relay_image_for(self, network: str) -> PerformerImage:
        if self._relay_image is None:
            raise ContainerStartFailed(
                f"network {network} is internal, and Docker publishes no port of a container "
                "there: a relay image (performerNetworkRelayImage) is needed to reach it"
            )
        return self._relay_image

    async def _start_relay(
        self,
        docker: aiodocker.Docker,
        spec: ContainerSpec,
        performer_id: str,
        image: PerformerImage,
        cpus: int | None,
    ) -> DockerContainer:
        """Create the relay publishing the performer's port, join it to the performer's
        network and start it (`_relay`); a relay that fails on the way is removed."""
        assert spec.network is not None
        name = f"{spec.name}-relay"
        body = relay_config(spec, performer_id, image, host_cpus=cpus)
        with translate_errors(f"create relay container {name}", not_found=ImageNotFound):
            relay = await _engine_answer(
                docker.containers.create(body, name=name), undo=self._discard
            )
        try:
            network = DockerNetwork(docker, spec.network)  # type: ignore[no-untyped-call]
            with translate_errors(
                f"connect {name} to network {spec.network}", not_found=ContainerStartFailed
            ):
                await _engine_answer(network.connect({"Container": relay.id}))
            with translate_errors(
                f"start relay container {name}",
                not_found=ContainerStartFailed,
                failed=ContainerStartFailed,
            ):
                await _engine_answer(relay.start())
        except BaseException:
            await self._discard(relay)
            raise
        return relay

    @staticmethod
    async def _repo_digest(docker: aiodocker.Docker, image_id: str, image: PerformerImage) -> str:
        """The digest the engine records for `image`'s repository on the image `image_id`.

        It is reported, not acted on, so an image that cannot be inspected (removed by force
        since the container was created) gives the digest the image was asked for by, if any.
        """
        info: Mapping[str, Any] = {}
        if image_id:
            with contextlib.suppress(ContainerRuntimeError), translate_errors("inspect image"):
                info = await docker.images.inspect(image_id)
        return repo_digest(info, image.repository, preferred=image.digest) or image.digest

    async def _ensure_image(self, docker: aiodocker.Docker, reference: str) -> None:
        try:
            with translate_errors(f"inspect image {reference}", not_found=ImageNotFound):
                info = await docker.images.inspect(reference)
            if image_is_present(info, reference):
                return
        except ImageNotFound:
            pass
        # Docker 20.10 answers a failed pull with 404 or 500, or an error inside the progress
        # stream, whatever the cause; pull_failure reads the cause from the message.
        with translate_errors(
            f"pull image {reference}", not_found=pull_failure, failed=pull_failure
        ):
            await docker.images.pull(reference)

    async def _wait_until_serving(
        self, container: DockerContainer, name: str, relay: DockerContainer | None = None
    ) -> tuple[ContainerState, int]:
        """Return the container's state and the loopback host port of the performer port, once
        the container runs and still runs with that port a poll later.

        Requiring a second sighting catches processes that die at once, which would otherwise
        pass the first inspection and be reported as a crash a moment after the start succeeded.
        With a `relay`, the port is the relay's, and both must run.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._start_timeout
        seen_port: int | None = None
        publisher, publisher_name = (container, name) if relay is None else (relay, f"{name}-relay")
        while True:
            state = await self._state(container, name)
            published = state if relay is None else await self._state(publisher, publisher_name)
            if state.running and published.running and published.host_port is not None:
                if published.host_port == seen_port:
                    return state, published.host_port
                seen_port = published.host_port
            for which, box, current in (
                (name, container, state),
                (publisher_name, publisher, published),
            ):
                if current.exited:
                    raise ContainerStartFailed(
                        f"container {which} exited with code {current.exit_code} before it was "
                        "ready" + await self._log_tail(box)
                    )
            if loop.time() >= deadline:
                raise ContainerStartFailed(
                    f"container {publisher_name} was not running with port {PERFORMER_PORT}/tcp "
                    f"published within {self._start_timeout:g} s (state {published.status!r})"
                    + await self._log_tail(publisher)
                )
            await asyncio.sleep(self._poll_interval)

    @staticmethod
    async def _state(container: DockerContainer, name: str) -> ContainerState:
        with translate_errors(f"inspect container {name}", not_found=ContainerStartFailed):
            return ContainerState.from_inspect(await container.show())

    async def _log_tail(self, container: DockerContainer) -> str:
        """Return the last log lines for an error message; the log is a courtesy, so never fail."""
        lines: list[str] = []
        with contextlib.suppress(ContainerRuntimeError), translate_errors("read container log"):
            lines = await container.log(stdout=True, stderr=True, tail=_LOG_TAIL_LINES)
        text = "".join(lines).strip()
        if not text:
            return ""
        return "; last log lines:\n" + text[-_LOG_TAIL_CHARS:]

    async def _discard(self, container: DockerContainer) -> None:
        # Shielded so that a second cancellation cannot leave the container behind.
        with (
            contextlib.suppress(ContainerRuntimeError),
            translate_errors(f"remove container {container.id}"),
        ):
            await asyncio.shield(container.delete(force=True))

    async def is_running(self, container_id: str) -> bool:
        """Tell whether the container exists and its process runs."""
        container = self._client().containers.container(container_id)
        try:
            with translate_errors(f"inspect container {container_id}", not_found=ContainerNotFound):
                info = await container.show()
        except ContainerNotFound:
            return False
        return ContainerState.from_inspect(info).running

    async def remove_container(self, container_id: str, *, grace_seconds: float) -> None:
        """Stop the container (SIGTERM, SIGKILL after the grace) and delete it; gone is fine.

        The engine takes whole seconds, so the grace is rounded up rather than cut short. The
        relay that publishes its port, if it has one, is removed with it.
        """
        container = self._client().containers.container(container_id)
        try:
            with translate_errors(f"stop container {container_id}", not_found=ContainerNotFound):
                await container.stop(t=math.ceil(max(grace_seconds, 0.0)))
            with translate_errors(f"remove container {container_id}", not_found=ContainerNotFound):
                await container.delete(force=True)
        except ContainerNotFound:
            pass
        await self._remove_relays(container_id)

    async def _relays_of(self, container_id: str) -> list[DockerContainer]:
        filters = json.dumps({"label": [f"{RELAY_FOR_LABEL}={container_id}"]})
        with translate_errors(f"list the relays of container {container_id}"):
            relays: list[DockerContainer] = await self._client().containers.list(
                all=True, filters=filters
            )
        return relays

    async def _remove_relays(self, container_id: str) -> None:
        for relay in await self._relays_of(container_id):
            with (
                contextlib.suppress(ContainerNotFound),
                translate_errors(f"remove relay container {relay.id}", not_found=ContainerNotFound),
            ):
                await relay.delete(force=True)

    async def find_containers(self, labels: Mapping[str, str]) -> list[FoundContainer]:
        """Every container, running or not, with all `labels`, as its inspect data describes it.

        A container removed between the listing and its inspection is left out.
        """
        found = []
        for container_id in await self.list_containers(labels):
            container = self._client().containers.container(container_id)
            try:
                with translate_errors(
                    f"inspect container {container_id}", not_found=ContainerNotFound
                ):
                    info = await container.show()
            except ContainerNotFound:
                continue
            found.append(await self._found(info))
        return found

    async def _found(self, info: Mapping[str, Any]) -> FoundContainer:
        config = info.get("Config") or {}
        state = ContainerState.from_inspect(info)
        reference = str(config.get("Image") or "")
        digest = ""
        image = parse_reference(reference)
        if image is not None:
            digest = await self._repo_digest(self._client(), state.image_id, image)
        return FoundContainer(
            container_id=str(info.get("Id", "")),
            name=str(info.get("Name", "")).removeprefix("/"),
            labels=dict(config.get("Labels") or {}),
            running=state.running,
            image_reference=reference,
            image_id=state.image_id,
            env=env_pairs(config.get("Env") or ()),
            endpoint=await self._found_endpoint(str(info.get("Id", "")), state),
            image_digest=digest,
        )

    async def _found_endpoint(self, container_id: str, state: ContainerState) -> Endpoint | None:
        """The loopback endpoint of a found container: its own published port, or that of the
        relay publishing it (a container on an internal network); None when neither runs."""
        if not state.running:
            return None
        port = state.host_port
        if port is None:
            for relay in await self._relays_of(container_id):
                with (
                    contextlib.suppress(ContainerNotFound),
                    translate_errors(f"inspect relay {relay.id}", not_found=ContainerNotFound),
                ):
                    relay_state = ContainerState.from_inspect(await relay.show())
                    if relay_state.running and relay_state.host_port is not None:
                        port = relay_state.host_port
        return None if port is None else Endpoint(LOOPBACK, port)

    async def local_image_id(self, reference: str) -> str | None:
        """The id of the local image `reference` names (no pull); None when there is none."""
        try:
            with translate_errors(f"inspect image {reference}", not_found=ImageNotFound):
                info = await self._client().images.inspect(reference)
        except ImageNotFound:
            return None
        if not image_is_present(info, reference):
            return None
        return str(info.get("Id") or "") or None

    async def list_containers(self, label_selector: Mapping[str, str]) -> list[str]:
        """Return the ids of containers, running or not, that carry all these labels.

        Meant for finding what a crashed executor left behind. An empty selector is refused, as it
        would match every container on the engine, the operator's own included. A relay is left
        out while its performer is listed (it belongs to it and goes when it is removed); one
        whose performer is gone is listed, as the leftover it is.
        """
        if not label_selector:
            raise ValueError("list_containers needs at least one label to select on")
        filters = json.dumps({"label": [f"{key}={value}" for key, value in label_selector.items()]})
        with translate_errors("list containers"):
            found = await self._client().containers.list(all=True, filters=filters)
        ids = {container.id for container in found}
        return [c.id for c in found if relay_of(c._container.get("Labels")) not in ids]

    async def events(self, labels: Mapping[str, str]) -> AsyncGenerator[ContainerEvent, None]:
        """Yield die and OOM events of containers carrying every label, until cancelled.

        The engine sends ``oom`` and then ``die`` (exit code 137) for a container the kernel killed
        for memory, so that gives OOM_KILLED followed by DIED. A container stopped by
        `remove_container` dies too: one DIED, with exit code 137 when it outlived the grace. A
        container whose start failed may have died before its id was returned, so consumers ignore
        ids they do not know.

        Events are asked for from the moment iteration begins (GET /events with ``since``), so
        one that happens while the first connection is being set up is not lost. When the stream
        breaks (engine restart, dropped socket) it reconnects after `events_reconnect_delay`,
        asking to replay from just after the last event it saw; the engine keeps only its last 256
        events, and an engine restart drops them, so some may still be lost. The subscription is
        closed when the consumer cancels or closes the iterator. After `aclose` the iterator raises
        `RuntimeUnavailable`.

        Raises:
            ValueError: for an empty selector, which would stream every container on the engine.
        """
        if not labels:
            raise ValueError("events needs at least one label to select on")
        selector = dict(labels)
        filters = event_filters(selector)
        since_ns = time.time_ns()
        while True:
            docker = self._client()
            stream = DockerEvents(docker)  # type: ignore[no-untyped-call]
            self._event_streams.add(stream)
            try:
                subscriber = stream.subscribe(  # type: ignore[no-untyped-call]
                    filters=filters, since=events_since(since_ns)
                )
                while (message := await subscriber.get()) is not None:
                    since_ns = max(since_ns, (event_time_ns(message) or 0) + 1)
                    event = container_event(message, selector)
                    if event is not None:
                        yield event
                failure = await self._stop_events(stream)
            finally:
                self._event_streams.discard(stream)
                await self._stop_events(stream)
            if self._closed:
                raise RuntimeUnavailable("the container runtime was closed")
            if isinstance(failure, aiodocker.DockerError) and 400 <= failure.status < 500:
                # The engine refused the request itself; asking again cannot help.
                with translate_errors("stream container events"):
                    raise failure
            log.warning(
                "the Docker event stream ended (%s); reconnecting in %g s",
                "closed" if failure is None else repr(failure),
                self._events_reconnect_delay,
            )
            await asyncio.sleep(self._events_reconnect_delay)

    @staticmethod
    async def _stop_events(stream: DockerEvents) -> BaseException | None:
        """Stop the stream's reader task and close its response; return why it failed, if it did."""
        task = stream.task
        failure = None
        if task is not None and task.done() and not task.cancelled():
            failure = task.exception()
        # stop() re-raises the reader's failure, which is already in hand.
        with contextlib.suppress(Exception):
            await stream.stop()  # type: ignore[no-untyped-call]
        return failure

    async def aclose(self) -> None:
        """Close the client if this runtime made it; later calls raise `RuntimeUnavailable`.

        Open `events` iterators are disconnected and raise `RuntimeUnavailable`.
        """
        if self._closed:
            return
        self._closed = True
        for stream in list(self._event_streams):
            await self._stop_events(stream)
        docker, self._docker = self._docker, None
        if self._owns_client and docker is not None:
            await docker.close()


async def _engine_answer(
    request: Coroutine[Any, Any, T],
    *,
    undo: Callable[[T], Awaitable[None]] | None = None,
) -> T:
    """Await an engine request that cancellation must not cut short.

    A cancelled HTTP request does not stop the engine: it goes on creating or starting the
    container, and shows it in listings before it will find it by name. Cleaning up at that
    moment races the engine, so a cancelled caller first waits for the engine's answer, undoes
    what it made, then takes the cancellation.
    """
    pending = asyncio.ensure_future(request)
    try:
        return await asyncio.shield(pending)
    except asyncio.CancelledError:
        while not pending.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({pending})
        if undo is not None and not pending.cancelled() and pending.exception() is None:
            await undo(pending.result())
        raise
