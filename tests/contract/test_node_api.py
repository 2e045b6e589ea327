"""The EigenLayer node API and the probes over a real HTTP connection, on the in-memory fakes:
healthy, partially healthy (one of two AVSs down), unhealthy, and an unknown API version."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from executor_adapters.http import NodeApiServer
from executor_core.executor import Executor
from tests.unit.core.conftest import AVS, OTHER_AVS, Harness


@pytest.fixture
async def served() -> AsyncIterator[tuple[Harness, Executor, str]]:
    harness = Harness()
    executor = harness.build(harness.settings(AVS), harness.settings(OTHER_AVS))
    api = NodeApiServer(executor, host="127.0.0.1", port=0, node_version="1.2.3")
    await api.start()
    try:
        yield harness, executor, f"http://127.0.0.1:{api.port}"
    finally:
        await api.stop()
        await executor.shutdown(0)


async def get(url: str) -> tuple[int, object]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body


async def test_before_start_the_services_are_initializing_and_the_node_not_ready(
    served: tuple[Harness, Executor, str],
) -> None:
    _, _, base = served
    status, body = await get(f"{base}/eigen/node/services")
    assert status == 200
    assert {s["status"] for s in body["services"]} == {"Initializing"}  # type: ignore[index]
    assert (await get(f"{base}/ready"))[0] == 503
    assert (await get(f"{base}/live"))[0] == 200
    assert (await get(f"{base}/eigen/node/health"))[0] == 503


async def test_health_is_200_then_206_with_one_avs_down_then_503_with_both(
    served: tuple[Harness, Executor, str],
) -> None:
    harness, executor, base = served
    await executor.start()
    assert (await get(f"{base}/ready"))[0] == 200
    assert (await get(f"{base}/eigen/node/health"))[0] == 200
    harness.connector.healthy = False  # a recreated performer never answers either
    [view] = executor.list_performers(OTHER_AVS)
    stale = harness.runtime.containers[view.container_id].endpoint
    harness.connector.client_for(stale).healthy = False
    await down(executor, OTHER_AVS.value)
    assert (await get(f"{base}/eigen/node/health"))[0] == 206
    assert (await get(f"{base}/eigen/node/services/{OTHER_AVS.value}/health"))[0] == 503
    assert (await get(f"{base}/eigen/node/services/{AVS.value.upper()[2:]}/health"))[0] == 404
    assert (await get(f"{base}/eigen/node/services/{AVS.value}/health"))[0] == 200
    await executor.shutdown(0)
    assert (await get(f"{base}/eigen/node/health"))[0] == 503
    assert (await get(f"{base}/ready"))[0] == 503


async def down(executor: Executor, service_id: str) -> None:
    for _ in range(500):
        if any(s.id == service_id and s.state.value == "Down" for s in executor.services()):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{service_id} never went down")


async def test_the_spec_and_node_versions_and_the_services_list(
    served: tuple[Harness, Executor, str],
) -> None:
    _, executor, base = served
    await executor.start()
    assert await get(f"{base}/eigen/node/spec-version") == (200, {"spec_version": "v0.0.1"})
    assert await get(f"{base}/eigen/node/version") == (200, {"node_version": "1.2.3"})
    status, body = await get(f"{base}/eigen/node/services")
    assert status == 200
    ids = sorted(s["id"] for s in body["services"])  # type: ignore[index]
    assert ids == sorted([AVS.value, OTHER_AVS.value])
    assert {s["status"] for s in body["services"]} == {"Up"}  # type: ignore[index]


@pytest.mark.parametrize("path", ["health", "services", "version", "spec-version"])
async def test_an_unsupported_api_version_is_404_with_the_specs_message(
    served: tuple[Harness, Executor, str], path: str
) -> None:
    _, _, base = served
    assert await get(f"{base}/eigen/node/{path}?version=v9.9.9") == (
        404,
        {"message": "API version not found"},
    )
    assert (await get(f"{base}/eigen/node/{path}?version=v0.0.1"))[0] != 404
