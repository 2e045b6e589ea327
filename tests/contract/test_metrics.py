"""/metrics over a real HTTP connection: counters that follow tasks, failures, deployments and
recreations exactly, gauges read at scrape time, and no unbounded label."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from executor_adapters.http import NodeApiServer
from executor_adapters.metrics import ExecutorMetrics
from executor_core.errors import AvsNotFound
from executor_core.executor import Executor
from executor_core.performers import PerformerImage
from tests.unit.core.conftest import AVS, Harness, make_task

V2 = PerformerImage("registry.example/avs", digest="sha256:" + "33" * 32)


@pytest.fixture
async def served() -> AsyncIterator[tuple[Harness, Executor, str]]:
    harness = Harness()
    executor = harness.build(harness.settings())
    metrics = ExecutorMetrics(executor)
    executor.subscribe(metrics.listen)
    api = NodeApiServer(executor, host="127.0.0.1", port=0, metrics=metrics)
    await api.start()
    await executor.start()
    try:
        yield harness, executor, f"http://127.0.0.1:{api.port}/metrics"
    finally:
        await api.stop()
        await executor.shutdown(0)


async def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_task_counters_rise_by_exactly_the_tasks_answered(
    served: tuple[Harness, Executor, str],
) -> None:
    _, executor, url = served
    for n in range(7):
        await executor.submit_task(make_task(f"0x{n:02x}", AVS.value, b"\x02"), timeout=5)
    for n in range(3):  # each for another AVS nobody serves: one series, not three
        with pytest.raises(AvsNotFound):
            await executor.submit_task(make_task("0xff", f"0x{n:040x}", b""), timeout=5)
    samples = await scrape(url)
    avs = AVS.value
    assert value(samples, "executor_tasks_total", avs=avs, generation="g1", code="OK") == 7
    assert (
        value(samples, "executor_tasks_total", avs="other", generation="g1", code="NOT_FOUND") == 3
    )
    assert value(samples, "executor_task_stage_seconds_count", avs=avs, stage="performer") == 7
    assert value(samples, "executor_tasks_in_flight") == 0
    assert value(samples, "executor_tasks_queued", avs=avs) == 0
    assert value(samples, "executor_result_signatures_total", curve="ecdsa") == 7  # harness
    assert ("executor_tasks_running", (("avs", avs),)) in samples
    assert value(samples, "eigen_performance_score") == 100.0  # callers' mistakes are not ours
    assert not any("task_id" in dict(labels) for _, labels in samples)


async def test_a_deployment_and_a_recreation_show_up_and_health_follows_the_performer(
    served: tuple[Harness, Executor, str],
) -> None:
    harness, executor, url = served
    await executor.deploy_artifact(AVS, V2)
    [view] = executor.list_performers()
    harness.runtime.crash(view.container_id)
    for _ in range(300):
        samples = await scrape(url)
        if value(samples, "executor_performer_recreations_total", avs=AVS.value) >= 1:
            break
        await asyncio.sleep(0.01)
    assert value(samples, "executor_deployments_total", avs=AVS.value, outcome="promoted") == 2
    assert (
        value(samples, "executor_deployment_seconds_count", avs=AVS.value, outcome="promoted") == 2
    )
    assert value(samples, "executor_performer_recreations_total", avs=AVS.value) >= 1
    [view] = executor.list_performers()
    harness.connector.healthy = False  # from now on no performer answers its checks
    stale = harness.runtime.containers[view.container_id].endpoint
    harness.connector.client_for(stale).healthy = False
    pid = view.performer_id.value
    for _ in range(300):
        samples = await scrape(url)
        healthy = value(
            samples, "executor_performer_healthy", avs=AVS.value, performer_id=pid,
            kind="application",
        )  # fmt: skip
        if healthy == 0:
            break
        await asyncio.sleep(0.01)
    assert healthy == 0
    assert value(samples, "eigen_performance_score") == 0
