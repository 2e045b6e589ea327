"""What the deployment e2e tests share, on Docker and on Kubernetes alike: executors started
in-process or as `executor run`, DeployArtifact requests, reading a result's image tag, waiting
for a condition, and a swap under load with the checks that no task was lost and no client went
back to the old image."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import grpc
import pytest

from executor_adapters.config import ExecutorConfig
from executor_adapters.grpc.executor_client import ExecutorClient
from executor_app.bootstrap import ExecutorApp, build_executor
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import track_instance
from tests.e2e.signed_tasks import AVS, signed_task


class InProcessExecutors:
    """Executors a test builds and starts in its own loop, each with a client on its port; the
    session cleanup knows each one's containers, and `aclose` stops them all."""

    def __init__(self) -> None:
        self._apps: list[ExecutorApp] = []
        self._clients: list[ExecutorClient] = []

    def __len__(self) -> int:
        return len(self._apps)

    async def start(
        self, config: ExecutorConfig, **build: Any
    ) -> tuple[ExecutorApp, ExecutorClient]:
        app = await build_executor(config, host="127.0.0.1", port=0, **build)
        track_instance(app.instance_id, app.executor.executor_name)
        await app.start()
        self._apps.append(app)
        client = ExecutorClient(f"127.0.0.1:{app.port}")
        self._clients.append(client)
        return app, client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        for app in self._apps:
            await app.stop(grace=5)


def executor_process(config: Path, log: Path) -> subprocess.Popen[bytes]:
    """`executor run --config` as its own process, what it logs appended to `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "executor_app", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=out,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def deploy_request(image: Any, *env: pb.PerformerEnv) -> pb.DeployArtifactRequest:
    """DeployArtifact of a pushed image by digest, with variables for its performer."""
    return pb.DeployArtifactRequest(
        avs_address=AVS, registry_url=image.repository, digest=image.digest, env=list(env)
    )


def tag_of(output: bytes) -> str:
    """The example performer's RESULT_TAG, after the 32-byte square."""
    return output[32:].decode()


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@attrs.frozen
class Swap:
    """What the clients saw while one deployment ran: per client (sent, done, tag) of each
    task, the failures, and when DeployArtifact was sent and answered."""

    histories: list[list[tuple[float, float, str]]]
    failures: list[str]
    start: float
    end: float

    def assert_nothing_lost_and_never_back(self, old: str, new: str, *, at_least: int) -> None:
        assert self.failures == []
        for history in self.histories:
            tags = [tag for _, _, tag in history]
            assert tags == sorted(tags), f"a client saw {old} after {new}"
            assert all(tag == old for _, done, tag in history if done < self.start)
            assert all(tag == new for sent, _, tag in history if sent > self.end)
        assert sum(len(h) for h in self.histories) > at_least


async def swap_under_load(
    client: ExecutorClient, request: pb.DeployArtifactRequest, *, clients: int
) -> Swap:
    """Deploy `request` while `clients` clients submit tasks back to back, from 1 s before
    until 1 s after."""
    stop = asyncio.Event()
    failures: list[str] = []

    async def worker(index: int) -> list[tuple[float, float, str]]:
        seen: list[tuple[float, float, str]] = []
        n = 0
        while not stop.is_set():
            n += 1
            sent = time.monotonic()
            try:
                result = await client.submit_task(
                    signed_task(f"0x{index:04x}{n:060x}", n), timeout=30
                )
            except grpc.aio.AioRpcError as exc:
                failures.append(f"{exc.code().name}: {exc.details()}")
                continue
            seen.append((sent, time.monotonic(), tag_of(result.output)))
        return seen

    workers = [asyncio.create_task(worker(i)) for i in range(clients)]
    await asyncio.sleep(1.0)
    start = time.monotonic()
    reply = await client.deploy_artifact(request, timeout=90)
    end = time.monotonic()
    assert reply.success
    await asyncio.sleep(1.0)
    stop.set()
    histories = list(await asyncio.gather(*workers))
    return Swap(histories, failures, start, end)
