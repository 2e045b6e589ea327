"""Prometheus metrics: a listener of the core's domain events, plus gauges read at scrape time.

Every label is bounded: AVS addresses and performer ids the executor serves, method names,
status codes and a few fixed words; never a task id or a payload. Each executor has its own
registry, so two in one process (tests, embedders) do not mix their series.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from executor_adapters.grpc.status_mapping import code_for_error_type
from executor_core import events as ev
from executor_core.executor import Executor
from executor_core.node_status import ServiceState

__all__ = ["CONTENT_TYPE", "PERFORMANCE_WINDOW", "ExecutorMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PERFORMANCE_WINDOW = 300.0
"""Seconds of task outcomes `eigen_performance_score` looks back on."""
_OPERATOR_FAULTS = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.FAILED_PRECONDITION,
    }
)
"""Failures that are the executor's or its performer's, not the caller's: the ones that lower
`eigen_performance_score` (a forged or malformed task does not)."""
_STAGE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class _Outcomes:
    """Task successes and failures of the last `window` seconds, in one-second buckets."""

    def __init__(self, window: float, clock: Callable[[], float]) -> None:
        self._window = window
        self._clock = clock
        self._buckets: collections.deque[list[float]] = collections.deque()

    def add(self, ok: bool) -> None:
        now = int(self._clock())
        if not self._buckets or self._buckets[-1][0] != now:
            self._buckets.append([now, 0, 0])
        self._buckets[-1][1 if ok else 2] += 1
        self._trim(now)

    def success_ratio(self) -> float:
        """Succeeded over all tasks in the window; 1 when there were none."""
        self._trim(int(self._clock()))
        good = sum(b[1] for b in self._buckets)
        bad = sum(b[2] for b in self._buckets)
        return 1.0 if good + bad == 0 else good / (good + bad)

    def _trim(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - self._window:
            self._buckets.popleft()


class _StateCollector(Collector):
    """What is read from the executor when Prometheus scrapes, not counted as it happens."""

    def __init__(self, executor: Executor, outcomes: _Outcomes) -> None:
        self._executor = executor
        self._outcomes = outcomes

    def collect(self) -> Iterable[Metric]:
        executor = self._executor
        in_flight = GaugeMetricFamily(
            "executor_tasks_in_flight", "Tasks accepted and not yet answered."
        )
        in_flight.add_metric([], executor.in_flight)
        yield in_flight
        healthy = GaugeMetricFamily(
            "executor_performer_healthy",
            "1 when the performer's container runs (kind=resource) or its last health probe "
            "passed (kind=application).",
            labels=["avs", "performer_id", "kind"],
        )
        for view in executor.list_performers():
            labels = [view.avs_address.value, view.performer_id.value]
            healthy.add_metric([*labels, "resource"], float(view.resource_healthy))
            healthy.add_metric([*labels, "application"], float(view.application_healthy))
        yield healthy
        running = GaugeMetricFamily(
            "executor_tasks_running", "Tasks on a worker of the AVS now.", labels=["avs"]
        )
        queued = GaugeMetricFamily(
            "executor_tasks_queued",
            "Tasks admitted and waiting for a worker of the AVS (taskQueueSize bounds it).",
            labels=["avs"],
        )
        for avs, (on_worker, waiting) in executor.load().items():
            running.add_metric([avs.value], on_worker)
            queued.add_metric([avs.value], waiting)
        yield running
        yield queued
        services = executor.services()
        up = sum(s.state is ServiceState.UP for s in services)
        score = GaugeMetricFamily(
            "eigen_performance_score",
            "EigenLayer node spec: 100 x (share of AVS performers Up) x (share of tasks that "
            f"succeeded in the last {PERFORMANCE_WINDOW:g} s, 1 without tasks).",
        )
        share_up = up / len(services) if services else 0.0
        score.add_metric([], round(100 * share_up * self._outcomes.success_ratio(), 2))
        yield score


class ExecutorMetrics:
    """The executor's registry; subscribe it to the executor's events (`listen`)."""

    def __init__(self, executor: Executor, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._served = executor.serves
        """Tasks for an AVS not served here count under `avs="other"`: callers choose it."""
        self.registry = CollectorRegistry(auto_describe=True)
        self._outcomes = _Outcomes(PERFORMANCE_WINDOW, clock)
        registry = self.registry
        self.tasks = Counter(
            "executor_tasks",
            "Tasks answered, by AVS, generation (g1/g2) and gRPC status code.",
            ["avs", "generation", "code"],
            registry=registry,
        )
        self.stage_seconds = Histogram(
            "executor_task_stage_seconds",
            "Time a succeeded task spent per stage: verify, performer, sign, and total.",
            ["avs", "stage"],
            buckets=_STAGE_BUCKETS,
            registry=registry,
        )
        self.recreations = Counter(
            "executor_performer_recreations",
            "Performer containers recreated after dying or failing their checks.",
            ["avs"],
            registry=registry,
        )
        self.deployments = Counter(
            "executor_deployments",
            "Deployments by outcome: promoted, failed, rolled_back.",
            ["avs", "outcome"],
            registry=registry,
        )
        self.deployment_seconds = Histogram(
            "executor_deployment_seconds",
            "From DeployArtifact (or start) to promotion or failure, by outcome.",
            ["avs", "outcome"],
            buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
            registry=registry,
        )
        self._clock = clock
        self._deploying: dict[str, float] = {}
        self.management_calls = Counter(
            "executor_management_calls",
            "Authenticated management calls by method and result (ok, refused).",
            ["method", "auth"],
            registry=registry,
        )
        self.signatures = Counter(
            "executor_result_signatures",
            "Results signed with the operator's key, by curve (bn254, bls381, ecdsa).",
            ["curve"],
            registry=registry,
        )
        self.batch_sizes = Histogram(
            "executor_signature_batch_size",
            "Aggregator signatures checked together in one verification.",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=registry,
        )
        self.dedupe_hits = Counter(
            "executor_dedupe_hits",
            "Repeated G2 tasks answered with their earlier result.",
            ["avs"],
            registry=registry,
        )
        self.rpc_seconds = Histogram(
            "eigen_rpc_request_duration_seconds",
            "EigenLayer node spec: duration of the chain's JSON-RPC requests.",
            ["method", "client_version"],
            buckets=_STAGE_BUCKETS,
            registry=registry,
        )
        self.rpc_requests = Counter(
            "eigen_rpc_request",
            "EigenLayer node spec: the chain's JSON-RPC requests, by method and outcome "
            "(ok, error: the node answered with one, unavailable: no usable answer).",
            ["method", "client_version", "outcome"],
            registry=registry,
        )
        registry.register(_StateCollector(executor, self._outcomes))

    def rpc_observer(self, client_version: str) -> Callable[[str, float, str], None]:
        """An observer for `JsonRpcClient.observers` that counts and times each request."""

        def observe(method: str, seconds: float, outcome: str) -> None:
            self.rpc_seconds.labels(method, client_version).observe(seconds)
            self.rpc_requests.labels(method, client_version, outcome).inc()

        return observe

    def listen(self, event: ev.DomainEvent) -> None:
        """An `EventListener`: count what happened."""
        match event:
            case ev.TaskCompleted():
                avs = event.avs_address.value
                self.tasks.labels(avs, _generation(event.version), "OK").inc()
                for stage, ms in (
                    ("verify", event.verify_ms),
                    ("performer", event.performer_ms),
                    ("sign", event.sign_ms),
                    ("total", event.duration_ms),
                ):
                    self.stage_seconds.labels(avs, stage).observe(ms / 1000)
                self.signatures.labels(event.curve or "unknown").inc()
                self._outcomes.add(ok=True)
            case ev.TaskFailed():
                code = code_for_error_type(event.error_type)
                avs = event.avs_address.value if self._served(event.avs_address) else "other"
                self.tasks.labels(avs, _generation(event.version), code.name).inc()
                if code in _OPERATOR_FAULTS:
                    self._outcomes.add(ok=False)
            case ev.PerformerRecreated():
                self.recreations.labels(event.avs_address.value).inc()
            case ev.DeploymentStarted():
                self._deploying[event.deployment_id] = self._clock()
            case ev.DeploymentPromoted():
                self.deployments.labels(event.avs_address.value, "promoted").inc()
                self._deployed(event.avs_address.value, event.deployment_id, "promoted")
            case ev.DeploymentFailed():
                self.deployments.labels(event.avs_address.value, "failed").inc()
                self._deployed(event.avs_address.value, event.deployment_id, "failed")
            case ev.DeploymentRolledBack():
                self.deployments.labels(event.avs_address.value, "rolled_back").inc()
            case ev.ManagementCallAuthenticated():
                self.management_calls.labels(event.method, "ok").inc()
            case ev.ManagementAuthRefused():
                self.management_calls.labels(event.method, "refused").inc()
            case ev.SignatureBatchStarted():
                self.batch_sizes.observe(event.size)
            case ev.DuplicateTaskAnswered():
                self.dedupe_hits.labels(event.avs_address.value).inc()
            case _:
                pass

    def _deployed(self, avs: str, deployment_id: str, outcome: str) -> None:
        started = self._deploying.pop(deployment_id, None)
        if started is not None:
            self.deployment_seconds.labels(avs, outcome).observe(self._clock() - started)

    def exposition(self) -> bytes:
        """The registry in Prometheus's text format."""
        return generate_latest(self.registry)


def _generation(version: int) -> str:
    return "g2" if version == 1 else "g1"
