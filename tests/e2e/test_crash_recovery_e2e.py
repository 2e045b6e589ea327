"""End to end: `executor run` killed with SIGKILL at random moments, during deployments and
under tasks, then started again with the same config, again and again.

After every restart: the state database opens, the AVS has exactly one container of this
executor (the one an earlier run left is adopted when it is what should run; anything else is
removed), ListPerformers shows it, the stored deployment names it, and the last deployment
that was acknowledged before the kill is what runs, unless a later one that the kill cut short
had committed first (its answer can be on its way when the kill lands). At the end a clean
SIGINT leaves nothing.
Run with `-s` to see the figures.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from executor_core.labels import EXECUTOR_NAME_LABEL
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import (
    CREATED_BY_THIS_RUN,
    REPO,
    containers_with_label,
    free_port,
    networks_with_label,
    require_example_image,
)
from tests.e2e.deployments import executor_process
from tests.e2e.signed_tasks import AVS, signed_task
from tests.registry_support import LocalRegistry

pytestmark = pytest.mark.docker

KILLS = 20
G1 = "/eigenlayer.hourglass.v1.ExecutorService/"


def write_config(tmp_path: Path, name: str, port: int) -> Path:
    text = (REPO / "examples/config/executor.yaml").read_text()
    text = text.replace("../keys/", str(REPO / "examples/keys") + "/")
    text = text.replace(
        "performerNetworkName: hourglass-demo", f"performerNetworkName: executor-e2e-{name}"
    )
    text = text.replace(
        "grpcPort: 9090",
        f"grpcPort: {port}\ninstanceName: {name}\nshutdownGracePeriod: 5s\n"
        f"storage: {{type: sqlite, dir: {tmp_path / 'state'}}}\n"
        "deployment: {probationPeriod: 0s, drainTimeout: 2s, timeout: 30s}",
    )
    assert f"instanceName: {name}" in text
    path = tmp_path / "executor.yaml"
    path.write_text(text)
    return path


class Run:
    """One `executor run` process."""

    def __init__(self, config: Path, log: Path) -> None:
        self.log = log
        self.proc = executor_process(config, log)
        self.started = time.monotonic()

    async def serving(self, marker: int) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")[marker:]
            if '"executor serving"' in text:
                return
            if self.proc.poll() is not None:
                pytest.fail(f"executor exited ({self.proc.returncode}) before serving:\n{text}")
            await asyncio.sleep(0.1)
        pytest.fail("executor did not serve within 120 s")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()


def stored_deployment(state: Path) -> tuple[str, str] | None:
    """(image reference, performer id) the database keeps for the AVS; it must open cleanly."""
    with sqlite3.connect(state / "executor-state.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        row = db.execute(
            "SELECT release, performer_id FROM deployments WHERE avs = ?", (AVS.lower(),)
        ).fetchone()
    if row is None:
        return None
    repository, tag, digest = json.loads(row[0])["image"]
    return (f"{repository}@{digest}" if digest else f"{repository}:{tag}", row[1])


async def list_performers(channel: grpc.aio.Channel) -> list[Any]:
    call = channel.unary_unary(
        G1 + "ListPerformers",
        request_serializer=bytes,
        response_deserializer=pb.ListPerformersResponse.FromString,
    )
    request = pb.ListPerformersRequest()
    return list((await call(request, timeout=10, wait_for_ready=True)).performers)


async def load(channel: grpc.aio.Channel, counts: collections.Counter[str]) -> None:
    submit = channel.unary_unary(
        G1 + "SubmitTask", request_serializer=bytes, response_deserializer=pb.TaskResult.FromString
    )
    n = 0
    while True:
        n += 1
        request = signed_task(f"0x{random.getrandbits(64):016x}", n)
        try:
            await submit(request, timeout=5)
            counts["ok"] += 1
        except grpc.aio.AioRpcError as exc:
            counts[exc.code().name] += 1
            await asyncio.sleep(0.05)
        except grpc.aio.UsageError:
            return


async def test_sigkill_at_random_moments_loses_nothing_acknowledged_and_leaves_no_orphan(
    tmp_path: Path, run_id: str, registry: LocalRegistry
) -> None:
    require_example_image()
    name = f"crash-{run_id}"
    label = f"{EXECUTOR_NAME_LABEL}={name}"
    CREATED_BY_THIS_RUN.append(label)
    port = free_port()
    config = write_config(tmp_path, name, port)
    log = tmp_path / "executor.log"
    rng = random.Random(run_id)
    images = [registry.v1, registry.v2]
    acknowledged: str = "hourglass-example-performer:latest"
    cut_short: str | None = None
    """The image of a deployment killed before it was acknowledged: it may have committed."""
    figures: collections.Counter[str] = collections.Counter()
    adopted_before = 0
    for kill in range(KILLS + 1):
        marker = log.stat().st_size if log.exists() else 0
        run = Run(config, log)
        try:
            await run.serving(marker)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                [performer] = await list_performers(channel)
                containers = containers_with_label(label)
                assert containers == [performer.container_id], (
                    f"after kill {kill}: containers {containers}, performer {performer}"
                )
                reference, performer_id = stored_deployment(tmp_path / "state") or ("", "")
                assert performer_id == performer.performer_id
                assert reference in (acknowledged, cut_short), (
                    f"after kill {kill}: {reference} runs; acknowledged {acknowledged}, "
                    f"cut short {cut_short}"
                )
                if reference != acknowledged:
                    figures["cut short, yet committed before the kill"] += 1
                    acknowledged = reference
                cut_short = None
                text = log.read_text(errors="replace")
                figures["adopted"] = text.count("performer of an earlier run adopted")
                figures["leftovers removed"] = text.count("container of an earlier run removed")
                if kill == KILLS:
                    break
                counts: collections.Counter[str] = collections.Counter()
                tasks = asyncio.create_task(load(channel, counts))
                if rng.random() < 0.6:
                    image = images[kill % 2]
                    deploy = channel.unary_unary(
                        G1 + "DeployArtifact",
                        request_serializer=bytes,
                        response_deserializer=pb.DeployArtifactResponse.FromString,
                    )
                    request = pb.DeployArtifactRequest(
                        avs_address=AVS, registry_url=image.repository, digest=image.digest
                    )
                    deploying = asyncio.ensure_future(deploy(request, timeout=60))
                    await asyncio.sleep(rng.uniform(0.0, 4.0))
                    if deploying.done() and deploying.exception() is None:
                        acknowledged = image.reference
                        figures["deploys acknowledged"] += 1
                    else:
                        # It can still commit between this check and the kill below.
                        cut_short = image.reference
                        figures["deploys cut short"] += 1
                    run.kill()
                    deploying.cancel()
                    await asyncio.gather(deploying, return_exceptions=True)
                else:
                    await asyncio.sleep(rng.uniform(0.2, 2.0))
                    run.kill()
                tasks.cancel()
                await asyncio.gather(tasks, return_exceptions=True)
                figures["tasks ok"] += counts["ok"]
                figures["kills"] += 1
        finally:
            if run.proc.poll() is None and kill < KILLS:
                run.kill()
    run.proc.send_signal(signal.SIGINT)
    assert run.proc.wait(timeout=60) == 0
    print(f"\ncrash recovery: {dict(figures)}")
    assert figures["kills"] == KILLS
    assert figures["adopted"] > adopted_before
    assert containers_with_label(label) == []
    assert networks_with_label(label) == []
