"""The node API of a real executor on Docker: Up while its performer serves, Down once the
container is killed, gone with the executor."""

from __future__ import annotations

import asyncio
import subprocess

import aiohttp
import attrs
import pytest

from executor_adapters.config import MetricsConfig, load_config
from tests.docker_support import REPO, require_example_image
from tests.e2e.apps import started_executor

pytestmark = pytest.mark.docker


async def status_of(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status


async def test_the_node_api_follows_the_performer_and_stops_with_the_executor(
    run_id: str,
) -> None:
    require_example_image()
    config = load_config(REPO / "examples/config/executor.yaml")
    entry = config.avs_performers[0]
    entry = attrs.evolve(
        entry, health=attrs.evolve(entry.health, check_interval=0.5, failure_threshold=1)
    )
    config = attrs.evolve(
        config,
        avs_performers=(entry,),
        performer_network_name=f"executor-e2e-node-api-{run_id}",
        metrics=MetricsConfig(enabled=True, port=0),
        deployment=attrs.evolve(
            config.deployment,
            recreate=attrs.evolve(config.deployment.recreate, initial_delay=30.0),
        ),
    )
    async with started_executor(config) as app:
        assert app.node_api is not None
        base = f"http://127.0.0.1:{app.node_api.port}"
        assert await status_of(f"{base}/eigen/node/health") == 200
        assert await status_of(f"{base}/ready") == 200
        [view] = app.executor.list_performers()
        await asyncio.to_thread(
            subprocess.run, ["docker", "kill", view.container_id], check=True, capture_output=True
        )
        for _ in range(100):
            if await status_of(f"{base}/eigen/node/health") == 503:
                break
            await asyncio.sleep(0.1)
        assert await status_of(f"{base}/eigen/node/health") == 503
        service = f"{base}/eigen/node/services/{entry.avs_address.value}/health"
        assert await status_of(service) == 503
    with pytest.raises(aiohttp.ClientConnectionError):
        await status_of(f"{base}/live")
