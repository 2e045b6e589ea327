"""A real executor started from a config for one test, and torn down with everything it made."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from executor_adapters.config import ExecutorConfig
from executor_app.bootstrap import ExecutorApp, build_executor
from tests.docker_support import track_instance


@contextlib.asynccontextmanager
async def started_executor(config: ExecutorConfig) -> AsyncIterator[ExecutorApp]:
    """The executor on a free loopback port, its containers tracked for the session cleanup."""
    app = await build_executor(config, host="127.0.0.1", port=0)
    track_instance(app.instance_id, app.executor.executor_name)
    await app.start()
    try:
        yield app
    finally:
        await app.stop(grace=5)
