"""A real Prometheus scrapes a running executor while tasks run; the series are read back
through Prometheus's own query API: task counters rise by exactly the tasks sent, a deployment
shows up, a killed performer shows as unhealthy."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import attrs
import grpc
import pytest

from executor_adapters.config import MetricsConfig, load_config
from executor_app.bootstrap import ExecutorApp
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import REPO, free_port, require_example_image
from tests.e2e.apps import started_executor
from tests.e2e.signed_tasks import AVS, SUBMIT, signed_task
from tests.registry_support import LocalRegistry

pytestmark = pytest.mark.docker

TASKS = 25
ALERTS = REPO / "examples/prometheus/executor-alerts.yml"
DASHBOARD = REPO / "examples/grafana/executor-dashboard.json"


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """Prometheus on loopback, scraping the node API port it returns every second."""
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("prometheus is not installed (scripts/setup-env.sh installs it)")
    target, web = free_port(), free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        f"rule_files: ['{ALERTS}']\n"
        "scrape_configs:\n"
        f"  - job_name: executor\n    static_configs: [{{targets: ['127.0.0.1:{target}']}}]\n"
    )
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{web}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "prometheus.log").open("wb"),
    )
    try:
        yield f"http://127.0.0.1:{web}", target
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
async def app(prometheus: tuple[str, int], run_id: str) -> AsyncIterator[ExecutorApp]:
    require_example_image()
    config = load_config(REPO / "examples/config/executor.yaml")
    entry = config.avs_performers[0]
    entry = attrs.evolve(entry, health=attrs.evolve(entry.health, check_interval=0.5))
    config = attrs.evolve(
        config,
        avs_performers=(entry,),
        performer_network_name=f"executor-e2e-prometheus-{run_id}",
        metrics=MetricsConfig(enabled=True, port=prometheus[1]),
        deployment=attrs.evolve(
            config.deployment,
            probation_period=0.0,
            recreate=attrs.evolve(config.deployment.recreate, initial_delay=60.0),
        ),
    )
    async with started_executor(config) as started:
        yield started


async def query(base: str, promql: str) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{base}/api/v1/query", params={"query": promql}) as response,
    ):
        answer = await response.json()
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


async def eventually(base: str, promql: str, wanted: float) -> float:
    """The query's single value once it equals `wanted` (within 60 s), as Prometheus saw it."""
    seen: float | None = None
    for _ in range(300):
        result = await query(base, promql)
        if result:
            seen = float(result[0]["value"][1])
            if seen == wanted:
                return seen
        await asyncio.sleep(0.2)
    raise AssertionError(f"{promql} = {seen}, wanted {wanted}")


async def test_prometheus_sees_tasks_a_deployment_and_a_killed_performer(
    prometheus: tuple[str, int], app: ExecutorApp, registry: LocalRegistry
) -> None:
    base, _ = prometheus
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        submit = channel.unary_unary(
            SUBMIT, request_serializer=bytes, response_deserializer=pb.TaskResult.FromString
        )
        for n in range(1, TASKS + 1):
            await submit(signed_task(f"0x{n:064x}", n), timeout=10)
        deploy = channel.unary_unary(
            "/eigenlayer.hourglass.v1.ExecutorService/DeployArtifact",
            request_serializer=bytes,
            response_deserializer=pb.DeployArtifactResponse.FromString,
        )
        image = registry.v1
        request = pb.DeployArtifactRequest(
            avs_address=AVS, registry_url=image.repository, digest=image.digest
        )
        await deploy(request, timeout=120)
    avs = AVS.lower()
    ok = f'sum(executor_tasks_total{{avs="{avs}",code="OK",generation="g1"}})'
    assert await eventually(base, ok, TASKS) == TASKS
    checked = "sum(executor_signature_batch_size_sum)"  # every aggregator signature, once
    assert await eventually(base, checked, TASKS) == TASKS
    signed = 'sum(executor_result_signatures_total{curve="bn254"})'
    assert await eventually(base, signed, TASKS) == TASKS
    promoted = f'sum(executor_deployments_total{{avs="{avs}",outcome="promoted"}})'
    assert await eventually(base, promoted, 2) == 2  # the config's image, then v1
    [view] = app.executor.list_performers()
    await asyncio.to_thread(
        subprocess.run, ["docker", "kill", view.container_id], check=True, capture_output=True
    )
    resource = (
        f'executor_performer_healthy{{avs="{avs}",kind="resource",'
        f'performer_id="{view.performer_id.value}"}}'
    )
    assert await eventually(base, resource, 0) == 0
    assert await eventually(base, "eigen_performance_score", 0) == 0
    for panel in json.loads(DASHBOARD.read_text())["panels"]:  # each query is valid PromQL
        for target in panel["targets"]:
            await query(base, target["expr"])
    async with aiohttp.ClientSession() as session, session.get(f"{base}/api/v1/rules") as answer:
        groups = (await answer.json())["data"]["groups"]
    assert sorted(r["health"] for g in groups for r in g["rules"]) == ["ok"] * 6
