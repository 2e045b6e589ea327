"""What the ContainerRuntime contract tests share: labels, test images, the event watcher.

See conftest.py for how each test runs against the in-memory runtime and a real Docker engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import tarfile
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Mapping,
)
from http.server import BaseHTTPRequestHandler
from typing import Any, Protocol

import aiodocker
import attrs

from executor_core.performers import ContainerHardening, ContainerSpec, Endpoint, PerformerImage
from executor_core.ports import ContainerEvent, ContainerRuntime

TEST_LABEL = "com.eigenlayer.hourglass.test"
RUN_LABEL = "com.eigenlayer.hourglass.test-run"
CASE_LABEL = "com.eigenlayer.hourglass.test-case"
RUN_ID = uuid.uuid4().hex[:12]
BASE_IMAGE = "hourglass-python-base:bookworm"
RELAY_IMAGE = PerformerImage("hourglass-python-base", tag="bookworm")
"""The image the Docker runtime runs the relays of internal networks in (it has python3)."""
EXIT_MARKER = "performer-test: failing on purpose"
DIGEST = "sha256:" + "ab" * 32


class ListingRuntime(ContainerRuntime, Protocol):
    """The port plus what both runtimes offer besides: the label lookup for cleaning up after a
    crash, and the count of open event subscriptions."""

    async def ensure_image(self, image: PerformerImage) -> None: ...

    async def list_containers(self, label_selector: Mapping[str, str]) -> list[str]: ...

    def events(self, labels: Mapping[str, str]) -> AsyncGenerator[ContainerEvent, None]: ...

    @property
    def active_event_streams(self) -> int: ...


class SpecFactory(Protocol):
    def __call__(
        self,
        *,
        image: PerformerImage | None = None,
        network: str | None = None,
        extra_labels: Mapping[str, str] | None = None,
        hardening: ContainerHardening | None = None,
    ) -> ContainerSpec: ...


Crash = Callable[[str], Awaitable[None]]
Pulls = Callable[[], int]
"""How often the runtime has pulled the `pullable_image` since the test began."""


class EventWatch:
    """Consumes `runtime.events(labels)` in a task, as a performer supervisor would."""

    def __init__(self, runtime: ListingRuntime, labels: Mapping[str, str]) -> None:
        self._received: asyncio.Queue[ContainerEvent] = asyncio.Queue()
        self.task = asyncio.create_task(self._consume(runtime.events(labels)))

    async def _consume(self, events: AsyncIterator[ContainerEvent]) -> None:
        async for event in events:
            self._received.put_nowait(event)

    async def next(self, *, within: float = 15.0) -> ContainerEvent:
        """Return the next event; fail if the stream ends or stays quiet for `within` seconds."""
        getter = asyncio.ensure_future(self._received.get())
        done, _ = await asyncio.wait(
            {getter, self.task}, timeout=within, return_when=asyncio.FIRST_COMPLETED
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        if self.task in done:
            self.task.result()  # Raises whatever ended the stream.
            raise AssertionError("the event stream ended")
        raise AssertionError(f"no event within {within:g} s")

    def pending(self) -> list[ContainerEvent]:
        """Events received and not yet taken with `next`."""
        found = []
        while not self._received.empty():
            found.append(self._received.get_nowait())
        return found

    async def stop(self) -> None:
        """Cancel the consumer, as a supervisor does when it stops watching."""
        if self.task.done():
            return  # A test that ended the stream otherwise has looked at how it ended.
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


Watch = Callable[[Mapping[str, str]], Awaitable[EventWatch]]


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


FAKE_IMAGE = PerformerImage("example.test/performer", tag="v1")
FAKE_EXITING_IMAGE = PerformerImage("example.test/broken-performer", tag="v1")
FAKE_DIGEST = "sha256:" + "12" * 32
FAKE_PULLABLE_IMAGE = PerformerImage("127.0.0.1:5000/example-performer", digest=FAKE_DIGEST)
FAKE_TAGGED_IMAGE = PerformerImage("127.0.0.1:5000/example-performer", tag="v1")
"""In the fake's registry, with FAKE_DIGEST as its digest."""
FAKE_UNREACHABLE_REGISTRY = "127.0.0.1:1"


@attrs.frozen
class StandInRegistry:
    """A registry on loopback that has no images; it records the paths it was asked for."""

    host: str
    requests: list[str]


class NoImagesHandler(BaseHTTPRequestHandler):
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


async def engine_answers() -> None:
    async with aiodocker.Docker() as docker:
        await asyncio.wait_for(docker.version(), timeout=5)


async def purge(docker: aiodocker.Docker, selector: Mapping[str, str]) -> None:
    """Remove, by id, the containers, networks and images that carry every label in `selector`."""
    filters = {"label": [f"{key}={value}" for key, value in selector.items()]}
    for container in await docker.containers.list(all=True, filters=json.dumps(filters)):
        await container.delete(force=True)
    for network in await docker.networks.list(filters=filters):
        await (await docker.networks.get(network["Id"])).delete()
    for image in await docker.images.list(filters=filters):
        await docker.images.delete(image["Id"], force=True)


@attrs.frozen
class DockerTestImages:
    serving: PerformerImage
    exiting: PerformerImage
    missing: PerformerImage


def build_context(cmd: list[str]) -> io.BytesIO:
    dockerfile = f"FROM {BASE_IMAGE}\nCMD {json.dumps(cmd)}\n".encode()
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w:gz") as tar:
        entry = tarfile.TarInfo("Dockerfile")
        entry.size = len(dockerfile)
        tar.addfile(entry, io.BytesIO(dockerfile))
    context.seek(0)
    return context


async def build_test_images(registry: StandInRegistry) -> DockerTestImages | None:
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
                fileobj=build_context(cmd),
                encoding="gzip",
                tag=image.reference,
                labels={TEST_LABEL: "1", RUN_LABEL: RUN_ID},
                pull=False,
                rm=True,
                forcerm=True,
            )
    return images
