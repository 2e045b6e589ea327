"""What only the Docker adapter does, or what only a real engine can show."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import (
    AsyncIterator,
    Sequence,
)
from pathlib import Path
from typing import Any

import aiodocker
import attrs
import pytest
from aiohttp import web

from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.docker._errors import pull_failure
from executor_adapters.docker._payloads import container_event, events_since, image_is_present
from executor_core.errors import (
    ContainerRuntimeError,
    ContainerStartFailed,
    ImageNotFound,
    RegistryUnavailable,
    RuntimeUnavailable,
)
from executor_core.performers import PerformerImage
from executor_core.ports import ContainerEvent, ContainerEventKind
from tests.contract.container_runtime.support import (
    BASE_IMAGE,
    DIGEST,
    EXIT_MARKER,
    TEST_LABEL,
    EventWatch,
    SpecFactory,
    StandInRegistry,
)
from tests.registry_support import LocalRegistry

docker_backend = pytest.mark.parametrize("backend", ["docker"], indirect=True)


@pytest.mark.docker
@docker_backend
async def test_a_pulled_digest_is_known_by_its_digest_only(
    runtime: AiodockerContainerRuntime,
    engine: aiodocker.Docker,
    make_spec: SpecFactory,
    registry: LocalRegistry,
    pullable_image: PerformerImage,
) -> None:
    await runtime.start_container(make_spec(image=pullable_image))

    info = await engine.images.inspect(registry.v1.reference)

    assert info["Id"] == registry.v1.image_id
    assert info["RepoTags"] == []
    assert info["RepoDigests"] == [registry.v1.reference]


@pytest.mark.docker
@docker_backend
async def test_an_oom_kill_gives_oom_killed_then_died(
    engine: aiodocker.Docker, runtime: AiodockerContainerRuntime, labels: dict[str, str]
) -> None:
    # The performer spec has no memory limit, so this container is made directly.
    selector = {**labels, "oom": "1"}
    watching = EventWatch(runtime, selector)
    await asyncio.sleep(0)
    container = await engine.containers.create(
        {
            "Image": BASE_IMAGE,
            "Cmd": ["python3", "-c", "bytearray(512 * 1024 * 1024)"],
            "Labels": selector,
            "HostConfig": {"Memory": 64 * 1024 * 1024, "MemorySwap": 64 * 1024 * 1024},
        }
    )
    try:
        await container.start()

        oom = await watching.next()
        died = await watching.next()
    finally:
        await watching.stop()

    assert oom == ContainerEvent(container.id, ContainerEventKind.OOM_KILLED)
    assert died == ContainerEvent(container.id, ContainerEventKind.DIED, 137)


@pytest.mark.docker
@docker_backend
async def test_the_container_is_set_up_as_the_executor_owns_it(
    runtime: AiodockerContainerRuntime, engine: aiodocker.Docker, make_spec: SpecFactory
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


@pytest.mark.docker
@docker_backend
async def test_the_endpoint_reaches_the_process_on_the_performer_port(
    runtime: AiodockerContainerRuntime, make_spec: SpecFactory
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


@pytest.mark.docker
@docker_backend
async def test_a_local_image_is_not_pulled_again(
    runtime: AiodockerContainerRuntime,
    make_spec: SpecFactory,
    stand_in_registry: StandInRegistry,
) -> None:
    await runtime.start_container(make_spec())

    assert not [path for path in stand_in_registry.requests if "/executor-test/http/" in path]


@pytest.mark.docker
@docker_backend
async def test_a_failed_start_reports_the_last_log_lines(
    runtime: AiodockerContainerRuntime,
    make_spec: SpecFactory,
    exiting_image: PerformerImage,
) -> None:
    with pytest.raises(ContainerStartFailed, match="exited with code 3") as failure:
        await runtime.start_container(make_spec(image=exiting_image))

    assert EXIT_MARKER in str(failure.value)


@pytest.mark.docker
@docker_backend
async def test_a_cancelled_start_leaves_nothing(
    engine: aiodocker.Docker, make_spec: SpecFactory, labels: dict[str, str]
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


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (
            'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused',
            RegistryUnavailable,
        ),
        ("dial tcp: lookup registry.invalid on 127.0.0.53:53: no such host", RegistryUnavailable),
        ('Get "https://r.example/v2/": net/http: TLS handshake timeout', RegistryUnavailable),
        ("read tcp 10.0.0.2:4000->10.0.0.9:443: i/o timeout", RegistryUnavailable),
        (
            f"manifest for 127.0.0.1:5000/app@{DIGEST} not found: manifest unknown: manifest "
            "unknown",
            ImageNotFound,
        ),
        (
            "pull access denied for nope, repository does not exist or may require 'docker login'",
            ImageNotFound,
        ),
        ("repository 127.0.0.1:5000/nope not found: name unknown", ImageNotFound),
        ("write /var/lib/docker/tmp/x: no space left on device", ContainerRuntimeError),
    ],
)
def test_a_pull_failure_is_told_apart_by_its_message(
    message: str, error: type[ContainerRuntimeError]
) -> None:
    assert type(pull_failure(f"pull image x: {message}")) is error


def _event(action: str, container_id: str, time_nano: int, **attributes: str) -> dict[str, Any]:
    return {
        "Type": "container",
        "Action": action,
        "Actor": {"ID": container_id, "Attributes": attributes},
        "time": time_nano // 1_000_000_000,
        "timeNano": time_nano,
    }


def test_docker_events_are_read_only_for_die_and_oom_of_labelled_containers() -> None:
    labels = {"app": "x"}

    assert container_event(_event("die", "c1", 1, app="x", exitCode="3"), labels) == (
        ContainerEvent("c1", ContainerEventKind.DIED, 3)
    )
    assert container_event(_event("oom", "c1", 1, app="x"), labels) == (
        ContainerEvent("c1", ContainerEventKind.OOM_KILLED)
    )
    assert container_event(_event("die", "c1", 1, app="x"), labels) == (
        ContainerEvent("c1", ContainerEventKind.DIED, None)
    )
    assert container_event(_event("die", "c1", 1, app="y", exitCode="0"), labels) is None
    assert container_event(_event("start", "c1", 1, app="x"), labels) is None
    assert container_event({**_event("die", "c1", 1, app="x"), "Type": "network"}, labels) is None


def test_docker_events_since_keeps_every_nanosecond() -> None:
    assert events_since(1_700_000_000_000_000_001) == "1700000000.000000001"


@attrs.define
class FakeEngine:
    """Just enough of the Engine API on a unix socket to break event streams on purpose.

    Each GET /events takes the next script: a status code to fail with, or a list of events to
    send, after which the stream is closed ("close") or held open until the test ends ("hold").
    """

    scripts: list[int | tuple[list[dict[str, Any]], str]]
    queries: list[dict[str, str]] = attrs.field(factory=list)
    release: asyncio.Event = attrs.field(factory=asyncio.Event)

    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"ApiVersion": "1.41", "Version": "20.10.24"})

    async def events(self, request: web.Request) -> web.StreamResponse:
        self.queries.append(dict(request.query))
        script = self.scripts.pop(0) if self.scripts else ([], "hold")
        if isinstance(script, int):
            return web.json_response({"message": f"scripted {script}"}, status=script)
        events, then = script
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for event in events:
            await response.write(json.dumps(event).encode() + b"\n")
        if then == "hold":
            await self.release.wait()
        return response


@contextlib.asynccontextmanager
async def fake_engine(
    tmp_path: Path, scripts: Sequence[int | tuple[list[dict[str, Any]], str]]
) -> AsyncIterator[tuple[FakeEngine, AiodockerContainerRuntime]]:
    engine = FakeEngine(list(scripts))
    app = web.Application()
    app.router.add_get("/version", engine.version)
    app.router.add_get("/v1.41/events", engine.events)
    runner = web.AppRunner(app)
    await runner.setup()
    socket_path = tmp_path / "engine.sock"
    await web.UnixSite(runner, str(socket_path)).start()
    docker = aiodocker.Docker(url=f"unix://{socket_path}")
    runtime = AiodockerContainerRuntime(docker, events_reconnect_delay=0.05)
    try:
        yield engine, runtime
    finally:
        engine.release.set()
        await runtime.aclose()
        await docker.close()
        await runner.cleanup()


async def test_docker_events_reconnect_after_a_break_and_replay_from_the_last_event(
    tmp_path: Path,
) -> None:
    labels = {"app": "x"}
    # Later than the moment the stream begins, which is where it starts asking from.
    at = time.time_ns() + 1_000_000_000
    first = _event("die", "c1", at, app="x", exitCode="1")
    second = _event("die", "c2", at + 500, app="x", exitCode="2")
    async with fake_engine(tmp_path, [([first], "close"), 500, ([second], "hold")]) as (
        engine,
        runtime,
    ):
        stream = runtime.events(labels)
        async with contextlib.aclosing(stream):
            got = [await asyncio.wait_for(anext(stream), 5) for _ in range(2)]

        assert [event.container_id for event in got] == ["c1", "c2"]
        assert len(engine.queries) == 3
        assert json.loads(engine.queries[0]["filters"]) == {
            "type": ["container"],
            "event": ["die", "oom"],
            "label": ["app=x"],
        }
        assert float(engine.queries[0]["since"]) < at / 1e9
        assert engine.queries[1]["since"] == events_since(at + 1)
        assert engine.queries[2]["since"] == events_since(at + 1)
        assert runtime.active_event_streams == 0


async def test_docker_events_give_up_when_the_engine_refuses_the_request(
    tmp_path: Path,
) -> None:
    async with fake_engine(tmp_path, [400]) as (_, runtime):
        with pytest.raises(ContainerRuntimeError, match="scripted 400"):
            await asyncio.wait_for(anext(runtime.events({"app": "x"})), 5)


@pytest.mark.docker
@docker_backend
async def test_the_specs_environment_reaches_the_container(
    runtime: AiodockerContainerRuntime, make_spec: SpecFactory, engine: aiodocker.Docker
) -> None:
    spec = attrs.evolve(make_spec(), env=(("LOG_LEVEL", "info"), ("GREETING", "a=b c")))
    started = await runtime.start_container(spec)
    try:
        details = await engine.containers.container(started.container_id).show()
    finally:
        await runtime.remove_container(started.container_id, grace_seconds=0)
    assert {"LOG_LEVEL=info", "GREETING=a=b c"} <= set(details["Config"]["Env"])
