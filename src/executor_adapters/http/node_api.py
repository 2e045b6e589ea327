"""The EigenLayer node specification's API (v0.0.1), `/ready` and `/live`, over aiohttp.

It runs on the executor's event loop and only reads what the core already knows (performer
views), so a probe never waits on a container or the chain.

| path | answer |
| --- | --- |
| `/eigen/node/spec-version` | `{"spec_version": "v0.0.1"}` |
| `/eigen/node/version` | `{"node_version": "<executor version>"}` |
| `/eigen/node/health` | 200 healthy, 206 partially healthy, 503 unhealthy (no body) |
| `/eigen/node/services` | `{"services": [{id, name, description, status}]}`: one per AVS, `chain` |
| `/eigen/node/services/{id}/health` | 200 Up, 503 otherwise, 404 unknown id |
| `/ready` | 200 while tasks are taken, 503 before start and while stopping |
| `/live` | 200 while the process serves HTTP at all |
| `/metrics` | Prometheus text format (`executor_adapters.metrics`) |

Any of the `/eigen/node` paths with a `version` query parameter other than the spec's gets
404 `{"message": "API version not found"}`, as the specification asks. The `chain` service
(the `l1Chain` endpoint, when the config has one) is Up while its last request got an answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from executor_adapters.chain.availability import ChainAvailability
from executor_adapters.metrics import CONTENT_TYPE, ExecutorMetrics
from executor_core.executor import Executor
from executor_core.node_status import NodeHealth, ServiceState, ServiceStatus, node_health

__all__ = ["NODE_SPEC_VERSION", "NodeApiServer"]

NODE_SPEC_VERSION = "v0.0.1"
_HEALTH_CODES = {
    NodeHealth.HEALTHY: 200,
    NodeHealth.PARTIALLY_HEALTHY: 206,
    NodeHealth.UNHEALTHY: 503,
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def _versioned(request: web.Request, handler: Handler) -> web.StreamResponse:
    version = request.query.get("version")
    if request.path.startswith("/eigen/node") and version not in (None, NODE_SPEC_VERSION):
        return web.json_response({"message": "API version not found"}, status=404)
    return await handler(request)


class NodeApiServer:
    """The HTTP listener; `start` binds (port 0 picks a free one), `stop` closes it."""

    def __init__(
        self,
        executor: Executor,
        *,
        host: str,
        port: int,
        node_version: str = "unknown",
        metrics: ExecutorMetrics | None = None,
        chain: ChainAvailability | None = None,
    ) -> None:
        self._executor = executor
        self._metrics = metrics
        self._chain = chain
        self._host = host
        self._port = port
        self._node_version = node_version
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def application(self) -> web.Application:
        app = web.Application(middlewares=[_versioned])
        app.router.add_get("/eigen/node/spec-version", self._spec_version)
        app.router.add_get("/eigen/node/version", self._version)
        app.router.add_get("/eigen/node/health", self._health)
        app.router.add_get("/eigen/node/services", self._services)
        app.router.add_get("/eigen/node/services/{id}/health", self._service_health)
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/live", self._live)
        if self._metrics is not None:
            app.router.add_get("/metrics", self._scrape)
        return app

    async def start(self) -> int:
        runner = web.AppRunner(self.application(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, self._port, reuse_port=False)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(f"cannot listen on {self._host}:{self._port}: {exc}") from exc
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        return self.port

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _spec_version(self, _: web.Request) -> web.Response:
        return web.json_response({"spec_version": NODE_SPEC_VERSION})

    async def _version(self, _: web.Request) -> web.Response:
        return web.json_response({"node_version": self._node_version})

    def _statuses(self) -> list[ServiceStatus]:
        """The AVS performers, then the chain endpoint when the executor reads one."""
        statuses = self._executor.services()
        if self._chain is not None:
            statuses.append(self._chain.status())
        return statuses

    async def _health(self, _: web.Request) -> web.Response:
        return web.Response(status=_HEALTH_CODES[node_health(self._statuses())])

    async def _services(self, _: web.Request) -> web.Response:
        services = [
            {"id": s.id, "name": s.name, "description": s.description, "status": s.state.value}
            for s in self._statuses()
        ]
        return web.json_response({"services": services})

    async def _service_health(self, request: web.Request) -> web.Response:
        wanted = request.match_info["id"].lower()
        for service in self._statuses():
            if service.id == wanted:
                return web.Response(status=200 if service.state is ServiceState.UP else 503)
        return web.json_response({"message": "service not found"}, status=404)

    async def _ready(self, _: web.Request) -> web.Response:
        return web.Response(status=200 if self._executor.accepting else 503)

    async def _live(self, _: web.Request) -> web.Response:
        return web.Response(status=200)

    async def _scrape(self, _: web.Request) -> web.Response:
        assert self._metrics is not None  # the route exists only with metrics
        body = self._metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})
