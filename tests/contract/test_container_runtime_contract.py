"""The `ContainerRuntime` contract, written once and run against the fake and the Docker adapter.

`ContainerRuntimeContract` holds the shared tests; a subclass provides the runtime, the images and
its capabilities as fixtures (fsspec's AbstractFixtures pattern), so no test carries its own skip.

Docker runs need an engine and the `hourglass-python-base:bookworm` image and skip, with the
reason, without them. Everything they create carries TEST_LABEL and this run's RUN_LABEL and is
removed by id: per test by its CASE_LABEL, and once more for the whole run when the session ends.
Images are tagged under a stand-in registry on loopback, so no pull can leave the machine and the
registry's request log shows whether the runtime pulled.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import tarfile
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import aiodocker
import attrs
import pytest

from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.docker._payloads import image_is_present
from executor_adapters.memory.container_runtime import InMemoryContainerRuntime
from executor_core.errors import (
    ContainerNotFound,
    ContainerRuntimeError,
    ContainerStartFailed,
    ImageNotFound,
    RuntimeUnavailable,
)
from executor_core.performers import ContainerSpec, Endpoint, PerformerImage
from executor_core.ports import ContainerRuntime

TEST_LABEL = "com.eigenlayer.hourglass.test"
RUN_LABEL = "com.eigenlayer.hourglass.test-run"
CASE_LABEL = "com.eigenlayer.hourglass.test-case"
RUN_ID = uuid.uuid4().hex[:12]
BASE_IMAGE = "hourglass-python-base:bookworm"
EXIT_MARKER = "performer-test: failing on purpose"


class ListingRuntime(ContainerRuntime, Protocol):
    """The port plus the label lookup both runtimes offer for cleaning up after a crash."""

    async def list_containers(self, label_selector: Mapping[str, str]) -> list[str]: ...


class SpecFactory(Protocol):
    def __call__(
        self,
        *,
        image: PerformerImage | None = None,
        network: str | None = None,
        extra_labels: Mapping[str, str] | None = None,
    ) -> ContainerSpec: ...


Crash = Callable[[str], Awaitable[None]]


async def accepts_connection(endpoint: Endpoint, *, within: float = 10.0) -> bool:
    """Tell whether a TCP connection to `endpoint` succeeds, retrying while the process boots."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        try:
            _, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
        except OSError:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.1)
        else:
            writer.close()
            await writer.wait_closed()
            return True


class ContainerRuntimeContract:
    """Shared tests; subclasses override the fixtures that raise NotImplementedError."""

    @pytest.fixture
    def runtime(self) -> ListingRuntime:
        raise NotImplementedError

    @pytest.fixture
    def image(self) -> PerformerImage:
        """An image whose container keeps running and listens on the performer port."""
        raise NotImplementedError

    @pytest.fixture
    def exiting_image(self) -> PerformerImage:
        """An image whose process exits at once."""
        raise NotImplementedError

    @pytest.fixture
    def missing_image(self) -> PerformerImage:
        """An image that exists neither locally nor in its registry."""
        raise NotImplementedError

    @pytest.fixture
    def crash(self, runtime: ListingRuntime) -> Crash:
        """Make a container's process exit behind the runtime's back."""
        raise NotImplementedError

    @pytest.fixture
    def endpoint_accepts_connections(self) -> bool:
        """Capability: something really listens at the endpoints the runtime returns."""
        return True

    @pytest.fixture
    def case_id(self) -> str:
        return uuid.uuid4().hex[:12]

    @pytest.fixture
    def labels(self, case_id: str) -> dict[str, str]:
        return {TEST_LABEL: "1", RUN_LABEL: RUN_ID, CASE_LABEL: case_id}

    @pytest.fixture
    def network_name(self, case_id: str) -> str:
        return f"executor-test-{case_id}"

    @pytest.fixture
    def make_spec(self, image: PerformerImage, labels: dict[str, str], case_id: str) -> SpecFactory:
        counter = itertools.count(1)
        default_image = image

        def make(
            *,
            image: PerformerImage | None = None,
            network: str | None = None,
            extra_labels: Mapping[str, str] | None = None,
        ) -> ContainerSpec:
            return ContainerSpec(
                image=image or default_image,
                name=f"executor-test-{case_id}-{next(counter)}",
                labels={**labels, **(extra_labels or {})},
                network=network,
            )

        return make

    async def test_ensure_network_creates_once_then_finds_it(
        self, runtime: ListingRuntime, network_name: str, labels: dict[str, str]
    ) -> None:
        first = await runtime.ensure_network(network_name, labels)
        second = await runtime.ensure_network(network_name, labels)

        assert first.created is True
        assert first.name == network_name
        assert second.created is False
        assert second.network_id == first.network_id
        await runtime.remove_network(first.network_id)

    async def test_ensure_network_matches_the_name_exactly(
        self, runtime: ListingRuntime, network_name: str, labels: dict[str, str]
    ) -> None:
        longer = await runtime.ensure_network(f"{network_name}-long", labels)
        shorter = await runtime.ensure_network(network_name, labels)

        assert shorter.created is True
        assert shorter.network_id != longer.network_id
        await runtime.remove_network(shorter.network_id)
        await runtime.remove_network(longer.network_id)

    async def test_remove_network_twice_is_fine(
        self, runtime: ListingRuntime, network_name: str, labels: dict[str, str]
    ) -> None:
        network = await runtime.ensure_network(network_name, labels)

        await runtime.remove_network(network.network_id)
        await runtime.remove_network(network.network_id)

        assert (await runtime.ensure_network(network_name, labels)).created is True

    async def test_start_returns_a_running_container_on_loopback(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        endpoint_accepts_connections: bool,
    ) -> None:
        spec = make_spec()

        started = await runtime.start_container(spec)

        assert started.name == spec.name
        assert started.container_id
        assert started.endpoint.host == "127.0.0.1"
        assert await runtime.is_running(started.container_id)
        if endpoint_accepts_connections:
            assert await accepts_connection(started.endpoint)

    async def test_labels_are_applied(
        self, runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
    ) -> None:
        started = await runtime.start_container(make_spec(extra_labels={"role": "performer"}))

        assert await runtime.list_containers({**labels, "role": "performer"}) == [
            started.container_id
        ]

    async def test_two_containers_get_distinct_names_ids_and_ports(
        self, runtime: ListingRuntime, make_spec: SpecFactory
    ) -> None:
        first = await runtime.start_container(make_spec())
        second = await runtime.start_container(make_spec())

        assert first.name != second.name
        assert first.container_id != second.container_id
        assert first.endpoint.port != second.endpoint.port

    async def test_a_name_in_use_is_refused_and_the_holder_keeps_running(
        self, runtime: ListingRuntime, make_spec: SpecFactory
    ) -> None:
        spec = make_spec()
        first = await runtime.start_container(spec)

        with pytest.raises(ContainerRuntimeError):
            await runtime.start_container(spec)

        assert await runtime.is_running(first.container_id)

    async def test_remove_stops_and_removes_and_twice_is_fine(
        self, runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
    ) -> None:
        started = await runtime.start_container(make_spec())

        await runtime.remove_container(started.container_id, grace_seconds=1)
        await runtime.remove_container(started.container_id, grace_seconds=1)

        assert not await runtime.is_running(started.container_id)
        assert await runtime.list_containers(labels) == []

    async def test_is_running_is_false_for_an_unknown_container(
        self, runtime: ListingRuntime
    ) -> None:
        assert not await runtime.is_running("0" * 64)

    async def test_a_crashed_container_stays_listed_until_removed(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        labels: dict[str, str],
        crash: Crash,
    ) -> None:
        started = await runtime.start_container(make_spec())

        await crash(started.container_id)

        assert not await runtime.is_running(started.container_id)
        assert await runtime.list_containers(labels) == [started.container_id]
        await runtime.remove_container(started.container_id, grace_seconds=1)
        assert await runtime.list_containers(labels) == []

    async def test_unknown_image_raises_image_not_found_and_leaves_nothing(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        missing_image: PerformerImage,
        labels: dict[str, str],
    ) -> None:
        with pytest.raises(ImageNotFound):
            await runtime.start_container(make_spec(image=missing_image))

        assert await runtime.list_containers(labels) == []

    async def test_a_process_that_exits_at_once_fails_the_start_and_leaves_nothing(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        exiting_image: PerformerImage,
        labels: dict[str, str],
    ) -> None:
        with pytest.raises(ContainerStartFailed):
            await runtime.start_container(make_spec(image=exiting_image))

        assert await runtime.list_containers(labels) == []

    async def test_a_missing_network_fails_the_start_and_leaves_nothing(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        network_name: str,
        labels: dict[str, str],
    ) -> None:
        with pytest.raises(ContainerStartFailed):
            await runtime.start_container(make_spec(network=network_name))

        assert await runtime.list_containers(labels) == []

    async def test_a_container_joins_its_network_which_stays_until_it_is_gone(
        self,
        runtime: ListingRuntime,
        make_spec: SpecFactory,
        network_name: str,
        labels: dict[str, str],
        endpoint_accepts_connections: bool,
    ) -> None:
        network = await runtime.ensure_network(network_name, labels)
        started = await runtime.start_container(make_spec(network=network_name))

        assert started.endpoint.host == "127.0.0.1"
        if endpoint_accepts_connections:
            assert await accepts_connection(started.endpoint)
        with pytest.raises(ContainerRuntimeError):
            await runtime.remove_network(network.network_id)

        await runtime.remove_container(started.container_id, grace_seconds=1)
        await runtime.remove_network(network.network_id)
        assert (await runtime.ensure_network(network_name, labels)).created is True

    async def test_list_containers_needs_every_label(
        self, runtime: ListingRuntime, make_spec: SpecFactory, labels: dict[str, str]
    ) -> None:
        blue = await runtime.start_container(make_spec(extra_labels={"slot": "blue"}))
        green = await runtime.start_container(make_spec(extra_labels={"slot": "green"}))

        assert sorted(await runtime.list_containers(labels)) == sorted(
            [blue.container_id, green.container_id]
        )
        assert await runtime.list_containers({**labels, "slot": "green"}) == [green.container_id]
        assert await runtime.list_containers({**labels, "slot": "red"}) == []

    async def test_list_containers_refuses_an_empty_selector(self, runtime: ListingRuntime) -> None:
        with pytest.raises(ValueError, match="at least one label"):
            await runtime.list_containers({})

    async def test_a_closed_runtime_raises_runtime_unavailable(
        self, runtime: ListingRuntime, network_name: str, labels: dict[str, str]
    ) -> None:
        await runtime.aclose()
        await runtime.aclose()

        with pytest.raises(RuntimeUnavailable):
            await runtime.ensure_network(network_name, labels)


# --- the in-memory fake ------------------------------------------------------------------------

FAKE_IMAGE = PerformerImage("example.test/performer", tag="v1")
FAKE_EXITING_IMAGE = PerformerImage("example.test/broken-performer", tag="v1")


class TestInMemoryContainerRuntime(ContainerRuntimeContract):
    @pytest.fixture
    def image(self) -> PerformerImage:
        return FAKE_IMAGE

    @pytest.fixture
    def exiting_image(self) -> PerformerImage:
        return FAKE_EXITING_IMAGE

    @pytest.fixture
    def missing_image(self) -> PerformerImage:
        return PerformerImage("example.test/missing", tag="v1")

    @pytest.fixture
    def endpoint_accepts_connections(self) -> bool:
        return False

    @pytest.fixture
    def runtime(self) -> InMemoryContainerRuntime:
        return InMemoryContainerRuntime(
            available_images=[FAKE_IMAGE, FAKE_EXITING_IMAGE],
            exiting_images=[FAKE_EXITING_IMAGE],
        )

    @pytest.fixture
    def crash(self, runtime: InMemoryContainerRuntime) -> Crash:
        async def crash(container_id: str) -> None:
            runtime.crash(container_id)

        return crash


def _fake_spec(name: str, image: PerformerImage = FAKE_IMAGE) -> ContainerSpec:
    return ContainerSpec(image=image, name=name, labels={"app": "test"})


async def test_in_memory_runtime_makes_every_image_available_by_default() -> None:
    runtime = InMemoryContainerRuntime()

    started = await runtime.start_container(_fake_spec("any", PerformerImage("any/image", "v9")))

    assert runtime.containers[started.container_id].running


async def test_in_memory_fail_next_start_fails_once_and_records_nothing() -> None:
    runtime = InMemoryContainerRuntime()
    runtime.fail_next_start(ContainerStartFailed("boom"))

    with pytest.raises(ContainerStartFailed, match="boom"):
        await runtime.start_container(_fake_spec("first"))

    assert runtime.containers == {}
    assert await runtime.start_container(_fake_spec("second"))


async def test_in_memory_runtime_records_removals_with_their_grace() -> None:
    runtime = InMemoryContainerRuntime()
    started = await runtime.start_container(_fake_spec("drained"))

    await runtime.remove_container(started.container_id, grace_seconds=7.5)

    [removed] = runtime.removed_containers
    assert removed.container_id == started.container_id
    assert removed.removed_with_grace == 7.5
    assert not removed.running


def test_in_memory_crash_of_an_unknown_container_raises() -> None:
    with pytest.raises(ContainerNotFound):
        InMemoryContainerRuntime().crash("nope")


# --- the Docker adapter ------------------------------------------------------------------------


@attrs.frozen
class StandInRegistry:
    """A registry on loopback that has no images; it records the paths it was asked for."""

    host: str
    requests: list[str]


class _NoImagesHandler(BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        if self.path.rstrip("/") == "/v2":
            self._reply(200, {})
        else:
            self._reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "no images"}]})

    do_HEAD = do_GET

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # The engine's TLS probe and our 404s are expected; keep the test output clean.


@pytest.fixture(scope="session")
def stand_in_registry() -> Iterator[StandInRegistry]:
    requests: list[str] = []
    handler = type("Handler", (_NoImagesHandler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield StandInRegistry(f"127.0.0.1:{server.server_address[1]}", requests)
    server.shutdown()
    server.server_close()
    thread.join()


async def _engine_answers() -> None:
    async with aiodocker.Docker() as docker:
        await asyncio.wait_for(docker.version(), timeout=5)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    try:
        asyncio.run(_engine_answers())
    except Exception as exc:
        pytest.skip(f"no Docker engine answers ({exc!r}); start one with scripts/setup-env.sh")


async def _purge(docker: aiodocker.Docker, selector: Mapping[str, str]) -> None:
    """Remove, by id, the containers, networks and images that carry every label in `selector`."""
    filters = {"label": [f"{key}={value}" for key, value in selector.items()]}
    for container in await docker.containers.list(all=True, filters=json.dumps(filters)):
        await container.delete(force=True)
    for network in await docker.networks.list(filters=filters):
        await (await docker.networks.get(network["Id"])).delete()
    for image in await docker.images.list(filters=filters):
        await docker.images.delete(image["Id"], force=True)


@pytest.fixture(scope="session")
def docker_run(docker_engine: None) -> Iterator[None]:
    """Remove whatever this run labelled when the session ends, even after a failed test."""
    yield

    async def purge_run() -> None:
        async with aiodocker.Docker() as docker:
            await _purge(docker, {RUN_LABEL: RUN_ID})

    asyncio.run(purge_run())


@attrs.frozen
class DockerTestImages:
    serving: PerformerImage
    exiting: PerformerImage
    missing: PerformerImage


def _build_context(cmd: list[str]) -> io.BytesIO:
    dockerfile = f"FROM {BASE_IMAGE}\nCMD {json.dumps(cmd)}\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w:gz") as tar:
        entry = tarfile.TarInfo("Dockerfile")
        entry.size = len(dockerfile)
        tar.addfile(entry, io.BytesIO(dockerfile))
    context.seek(0)
    return context


async def _build_test_images(registry: StandInRegistry) -> DockerTestImages | None:
    repository = f"{registry.host}/executor-test"
    images = DockerTestImages(
        serving=PerformerImage(f"{repository}/http", tag=RUN_ID),
        exiting=PerformerImage(f"{repository}/exits", tag=RUN_ID),
        missing=PerformerImage(f"{repository}/missing", tag=RUN_ID),
    )
    commands = {
        images.serving: ["python3", "-m", "http.server", "8080"],
        images.exiting: ["sh", "-c", f"echo '{EXIT_MARKER}' >&2; exit 3"],
    }
    async with aiodocker.Docker() as docker:
        try:
            await docker.images.inspect(BASE_IMAGE)
        except aiodocker.DockerError:
            return None
        for image, cmd in commands.items():
            await docker.images.build(
                fileobj=_build_context(cmd),
                encoding="gzip",
                tag=image.reference,
                labels={TEST_LABEL: "1", RUN_LABEL: RUN_ID},
                pull=False,
                rm=True,
                forcerm=True,
            )
    return images


@pytest.fixture(scope="session")
def docker_test_images(docker_run: None, stand_in_registry: StandInRegistry) -> DockerTestImages:
    images = asyncio.run(_build_test_images(stand_in_registry))
    if images is None:
        pytest.skip(f"{BASE_IMAGE} is missing; build it with scripts/build-base-image.sh")
    return images


@pytest.mark.docker
class TestAiodockerContainerRuntime(ContainerRuntimeContract):
    @pytest.fixture
    def image(self, docker_test_images: DockerTestImages) -> PerformerImage:
        return docker_test_images.serving

    @pytest.fixture
    def exiting_image(self, docker_test_images: DockerTestImages) -> PerformerImage:
        return docker_test_images.exiting

    @pytest.fixture
    def missing_image(self, docker_test_images: DockerTestImages) -> PerformerImage:
        return docker_test_images.missing

    @pytest.fixture
    async def engine(
        self, docker_test_images: DockerTestImages, labels: dict[str, str]
    ) -> AsyncIterator[aiodocker.Docker]:
        """A client of our own, to look at the engine without going through the adapter."""
        async with aiodocker.Docker() as docker:
            yield docker
            await _purge(docker, labels)

    @pytest.fixture
    async def runtime(self, engine: aiodocker.Docker) -> AsyncIterator[AiodockerContainerRuntime]:
        runtime = AiodockerContainerRuntime(start_timeout=20, poll_interval=0.1)
        yield runtime
        await runtime.aclose()

    @pytest.fixture
    def crash(self, engine: aiodocker.Docker) -> Crash:
        async def crash(container_id: str) -> None:
            container = engine.containers.container(container_id)
            await container.kill()
            await container.wait()

        return crash

    async def test_the_container_is_set_up_as_the_executor_owns_it(
        self, runtime: AiodockerContainerRuntime, engine: aiodocker.Docker, make_spec: SpecFactory
    ) -> None:
        spec = make_spec()
        started = await runtime.start_container(spec)

        info = await engine.containers.container(started.container_id).show()

        host = info["HostConfig"]
        assert host["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": ""}]}
        assert host["RestartPolicy"]["Name"] == "no"
        assert host["AutoRemove"] is False
        assert info["Name"] == f"/{spec.name}"
        assert spec.labels.items() <= info["Config"]["Labels"].items()

    async def test_the_endpoint_reaches_the_process_on_the_performer_port(
        self, runtime: AiodockerContainerRuntime, make_spec: SpecFactory
    ) -> None:
        started = await runtime.start_container(make_spec())

        status_line = b""
        for _ in range(100):
            try:
                reader, writer = await asyncio.open_connection(
                    started.endpoint.host, started.endpoint.port
                )
                writer.write(b"GET / HTTP/1.0\r\n\r\n")
                status_line = await reader.readline()
                writer.close()
                await writer.wait_closed()
            except OSError:
                pass
            if status_line.startswith(b"HTTP/"):
                break
            await asyncio.sleep(0.1)
        assert status_line.startswith(b"HTTP/1.0 200")

    async def test_a_local_image_is_not_pulled_again(
        self,
        runtime: AiodockerContainerRuntime,
        make_spec: SpecFactory,
        stand_in_registry: StandInRegistry,
    ) -> None:
        await runtime.start_container(make_spec())

        assert not [path for path in stand_in_registry.requests if "/executor-test/http/" in path]

    async def test_a_failed_start_reports_the_last_log_lines(
        self,
        runtime: AiodockerContainerRuntime,
        make_spec: SpecFactory,
        exiting_image: PerformerImage,
    ) -> None:
        with pytest.raises(ContainerStartFailed, match="exited with code 3") as failure:
            await runtime.start_container(make_spec(image=exiting_image))

        assert EXIT_MARKER in str(failure.value)

    async def test_a_cancelled_start_leaves_nothing(
        self, engine: aiodocker.Docker, make_spec: SpecFactory, labels: dict[str, str]
    ) -> None:
        # A long poll interval holds the start in its wait, after the container was created.
        runtime = AiodockerContainerRuntime(start_timeout=20, poll_interval=2.0)
        start = asyncio.create_task(runtime.start_container(make_spec()))
        selector = json.dumps({"label": [f"{k}={v}" for k, v in labels.items()]})
        while not await engine.containers.list(all=True, filters=selector):
            assert not start.done()
            await asyncio.sleep(0.01)

        start.cancel()
        with pytest.raises(asyncio.CancelledError):
            await start

        assert await runtime.list_containers(labels) == []
        await runtime.aclose()


async def test_aiodocker_runtime_reports_an_unreachable_engine(tmp_path: Path) -> None:
    async with aiodocker.Docker(url=f"unix://{tmp_path}/no-docker.sock") as docker:
        runtime = AiodockerContainerRuntime(docker)

        with pytest.raises(RuntimeUnavailable):
            await runtime.ensure_network("executor-test-unreachable", {TEST_LABEL: "1"})
        await runtime.aclose()


async def test_aiodocker_runtime_makes_its_client_from_docker_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    runtime = AiodockerContainerRuntime()

    with pytest.raises(RuntimeUnavailable):
        await runtime.is_running("0" * 64)
    await runtime.aclose()


DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("reference", "info", "present"),
    [
        ("repo/app:1", {"RepoTags": ["repo/app:1"]}, True),
        ("repo/app:1", {"RepoTags": ["repo/app:2"], "RepoDigests": ["repo/app:1"]}, False),
        ("docker.io/library/app:1", {"RepoTags": ["app:1"]}, True),
        (
            f"repo/app@{DIGEST}",
            {"RepoTags": ["repo/app:1"], "RepoDigests": [f"repo/app@{DIGEST}"]},
            True,
        ),
        (f"repo/app@{DIGEST}", {"RepoTags": [f"repo/app@{DIGEST}"], "RepoDigests": []}, False),
        (f"docker.io/repo/app@{DIGEST}", {"RepoDigests": [f"repo/app@{DIGEST}"]}, True),
    ],
)
def test_docker_image_matching_is_exact_per_kind_of_reference(
    reference: str, info: dict[str, Any], present: bool
) -> None:
    assert image_is_present(info, reference) is present
