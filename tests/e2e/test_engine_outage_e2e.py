"""End to end: the Docker engine stops for 90 s under load, then starts again; every AVS serves
again by itself, soon, with one container each.

Only the dockerd that scripts/setup-env.sh started (its pid is in /run/executor-dockerd.pid) is
stopped and started again, by pid; on a machine whose engine someone else runs, the test is
skipped. Run with `-s` to see the figures.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import time
from pathlib import Path

import attrs
import grpc
import pytest

from executor_adapters.config import load_config
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import (
    INSTANCE_LABEL,
    REPO,
    containers_with_label,
    docker_answers,
    require_example_image,
)
from tests.e2e.apps import started_executor
from tests.e2e.signed_tasks import SUBMIT, signed_task

pytestmark = pytest.mark.docker

PID_FILE = Path("/run/executor-dockerd.pid")
DOCKERD_LOG = Path("/var/log/executor-dockerd.log")
OUTAGE = 90.0
BACK_WITHIN = 10.0
AVSS = ("0x70997970c51812dc3a010c7d01b50e0d17dc79c8", "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc")


def our_dockerd() -> int:
    """The pid of the dockerd this project's script started, or skip."""
    try:
        pid = int(PID_FILE.read_text().strip())
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except (OSError, ValueError):
        pytest.skip(f"no dockerd started by scripts/setup-env.sh ({PID_FILE}); not stopping one")
    if comm != "dockerd":
        pytest.skip(f"pid {pid} in {PID_FILE} is {comm!r}, not the dockerd the suite started")
    return pid


def stop_dockerd(pid: int) -> None:
    """SIGTERM to our dockerd (it stops its containers first), and wait until it is gone."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists(), "dockerd did not stop within 60 s"


def spawn_dockerd() -> None:
    """Start dockerd as scripts/setup-env.sh does, and record its pid the same way."""
    with DOCKERD_LOG.open("ab") as log:
        proc = subprocess.Popen(
            ["dockerd"], stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
    PID_FILE.write_text(f"{proc.pid}\n")


async def start_dockerd() -> float:
    """Start dockerd again; return when it answers."""
    await asyncio.to_thread(spawn_dockerd)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if await asyncio.to_thread(docker_answers):
            return time.monotonic()
        await asyncio.sleep(0.2)
    pytest.fail("dockerd did not answer within 60 s of its restart")


@attrs.define
class Load:
    """Clients that keep submitting tasks to every AVS; the last success per AVS is kept."""

    port: int
    codes: collections.Counter[str] = attrs.field(factory=collections.Counter)
    last_ok: dict[str, float] = attrs.field(factory=dict)

    async def client(self, index: int) -> None:
        avs = AVSS[index % len(AVSS)]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{self.port}") as channel:
            submit = channel.unary_unary(
                SUBMIT, request_serializer=bytes, response_deserializer=pb.TaskResult.FromString
            )
            n = 0
            while True:
                n += 1
                request = signed_task(f"0x{index:04x}{n:012x}", index * 10**9 + n, avs)
                try:
                    await submit(request, timeout=5)
                except grpc.aio.AioRpcError as exc:
                    self.codes[exc.code().name] += 1
                    await asyncio.sleep(0.1)
                else:
                    self.codes["OK"] += 1
                    self.last_ok[avs] = time.monotonic()


async def test_every_avs_serves_again_soon_after_a_90_s_engine_outage(run_id: str) -> None:
    require_example_image()
    pid = our_dockerd()
    config = load_config(REPO / "examples/config/executor.yaml")
    entry = config.avs_performers[0]
    entry = attrs.evolve(
        entry, health=attrs.evolve(entry.health, check_interval=1.0, failure_threshold=2)
    )
    second = attrs.evolve(entry, avs_address=type(entry.avs_address)(AVSS[1]))
    config = attrs.evolve(
        config,
        avs_performers=(entry, second),
        performer_network_name=f"executor-e2e-outage-{run_id}",
    )
    async with started_executor(config) as app:
        assert app.port is not None
        load = Load(app.port)
        clients = [asyncio.create_task(load.client(i)) for i in range(8)]
        try:
            await asyncio.sleep(3)
            assert set(load.last_ok) == set(AVSS), f"not serving before the outage: {load.codes}"
            stopped = time.monotonic()
            await asyncio.to_thread(stop_dockerd, pid)
            await asyncio.sleep(OUTAGE)
            back = await start_dockerd()
            deadline = back + 60
            while time.monotonic() < deadline:
                if all(load.last_ok.get(avs, 0) > back for avs in AVSS):
                    break
                await asyncio.sleep(0.1)
            recovered = {avs: round(load.last_ok.get(avs, 0) - back, 2) for avs in AVSS}
        finally:
            for task in clients:
                task.cancel()
            await asyncio.gather(*clients, return_exceptions=True)
        label = f"{INSTANCE_LABEL}={app.instance_id}"
        containers = containers_with_label(label)
        listed = app.executor.list_performers()
    print(
        f"\nengine outage: stopped for {back - stopped:.1f} s; first good task per AVS "
        f"{recovered} s after the engine answered; codes {dict(load.codes)}; "
        f"containers afterwards {len(containers)}"
    )
    assert all(0 < seconds <= BACK_WITHIN for seconds in recovered.values()), recovered
    assert len(listed) == len(AVSS)
    assert sorted(containers) == sorted(view.container_id for view in listed)
