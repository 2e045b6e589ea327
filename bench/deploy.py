"""Deployment benchmark: DeployArtifact to promotion, and failed tasks while images swap under load.

Run from the repository root (needs the Docker engine, `bash scripts/setup-env.sh`, and Debian's
docker-registry):

    .venv/bin/python bench/deploy.py                 # about 1-2 minutes
    .venv/bin/python bench/deploy.py --rounds 6 --clients 10

What it does:

1. Starts a `docker-registry` on 127.0.0.1 and pushes the example performer as v1 and v2
   (`tests.registry_support.running_registry`, the test suite's own registry; the images differ
   only by `ENV RESULT_TAG`).
2. Builds the executor from `examples/config/executor.yaml` (only the performer network name is
   changed, to one unique to the run), serving gRPC on 127.0.0.1 and an ephemeral port, and
   subscribes to its domain events.
3. Warm-up: deploys v1, v2, v1 by digest, so that both images are pulled and local.
4. Idle: `--rounds` deployments alternating v2 / v1, one after the other, with no task traffic.
5. Under load: `--clients` clients in a separate process submit signed tasks back to back while
   another `--rounds` alternating deployments run; they stop 1 s after the last deployment (or at
   `LOAD_CAP_SECONDS`, whichever comes first).

For every deployment it records the DeployArtifact round-trip as the client sees it and the time
from the `DeploymentStarted` to the `DeploymentPromoted` event, split at `PerformerStaged` and by
timing the runtime's `ensure_image` and `start_container` calls. For the load it counts tasks,
failures and per-client ordering violations: a client must never get a result from an image older
than one it has already been served by (see `ordering_violations`).

At the end the executor is stopped (it removes its containers and network), the registry is
stopped and the images built for it are removed by id; leftovers, if any, are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import multiprocessing
import multiprocessing.connection
import multiprocessing.synchronize
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for `tests.registry_support`

import attrs  # noqa: E402
import grpc  # noqa: E402
import pytest  # noqa: E402

from executor_adapters.config import ExecutorConfig, load_config  # noqa: E402
from executor_adapters.grpc.executor_client import ExecutorClient  # noqa: E402
from executor_adapters.signing import bn254  # noqa: E402
from executor_app.bootstrap import ExecutorApp, build_executor  # noqa: E402
from executor_core.events import (  # noqa: E402
    DeploymentFailed,
    DeploymentPromoted,
    DeploymentStarted,
    DomainEvent,
    PerformerStaged,
)
from executor_core.live_performer import READY_POLL_SECONDS  # noqa: E402
from hourglass_proto.eigenlayer.hourglass import v1 as pb  # noqa: E402
from tests.docker_support import INSTANCE_LABEL, containers_with_label  # noqa: E402
from tests.registry_support import LocalRegistry, PushedImage, running_registry  # noqa: E402
from tests.vectors import load_vector  # noqa: E402

CONFIG = REPO / "examples" / "config" / "executor.yaml"
TARGET_PROMOTION_S = 2.0
"""Target for DeploymentStarted -> DeploymentPromoted of an image that is already local."""
UPSTREAM_PROMOTION_S = 15.0
"""Upstream promotes on its first health tick, 15 s after the container starts at the earliest."""
LOAD_CAP_SECONDS = 60.0
"""The load process stops by itself this long after it started, whatever happens."""
LOAD_TAIL_SECONDS = 1.0
"""Load keeps running this long after the last deployment."""
LOAD_LEAD_SECONDS = 1.0
"""Load runs this long before the first deployment."""
DEPLOY_TIMEOUT = 120.0
TASK_TIMEOUT = 30.0
PAYLOADS = 64
"""Distinct pre-signed payloads the load cycles through (signing stays out of the loop)."""
AGGREGATOR_KEY_NAME = "ponos-aggregator"


# --- measuring deployments -------------------------------------------------------------------


@dataclass
class DeploymentTiming:
    """One deployment, all times in seconds on this process's monotonic clock."""

    tag: str
    rpc: float = 0.0
    started: float | None = None
    staged: float | None = None
    promoted: float | None = None
    ensure_image: float = 0.0
    start_container: float = 0.0
    failed: str | None = None

    @property
    def to_promotion(self) -> float | None:
        if self.started is None or self.promoted is None:
            return None
        return self.promoted - self.started

    @property
    def readiness_wait(self) -> float | None:
        if self.staged is None or self.promoted is None:
            return None
        return self.promoted - self.staged


@dataclass
class Recorder:
    """Domain events and runtime call times, by deployment id."""

    deployments: dict[str, DeploymentTiming] = field(default_factory=dict)
    current: str | None = None

    def listener(self, event: DomainEvent) -> None:
        now = time.monotonic()
        if isinstance(event, DeploymentStarted):
            tag = event.image.reference
            self.deployments[event.deployment_id] = DeploymentTiming(tag, started=now)
            self.current = event.deployment_id
            return
        timing = self.deployments.get(getattr(event, "deployment_id", ""))
        if timing is None:
            return
        if isinstance(event, PerformerStaged):
            timing.staged = now
        elif isinstance(event, DeploymentPromoted):
            timing.promoted = now
            self.current = None
        elif isinstance(event, DeploymentFailed):
            timing.failed = f"{event.error_type}: {event.reason}"
            self.current = None

    def time_runtime(self, app: ExecutorApp) -> None:
        """Time `ensure_image` and `start_container` of the app's runtime, per deployment.

        Wraps the two bound methods on the runtime object itself (the core holds that object),
        and only measures: arguments and results pass through untouched.
        """
        runtime: Any = app.runtime
        for name in ("ensure_image", "start_container"):
            original: Callable[..., Awaitable[Any]] = getattr(runtime, name)
            setattr(runtime, name, self._timed(name, original))

    def _timed(
        self, name: str, original: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            deployment = self.current
            start = time.monotonic()
            try:
                return await original(*args, **kwargs)
            finally:
                timing = self.deployments.get(deployment or "")
                if timing is not None:
                    setattr(timing, name, getattr(timing, name) + time.monotonic() - start)

        return timed


def deploy_request(avs: str, image: PushedImage) -> pb.DeployArtifactRequest:
    return pb.DeployArtifactRequest(
        avs_address=avs, registry_url=image.repository, digest=image.digest
    )


async def deploy(
    client: ExecutorClient, recorder: Recorder, avs: str, image: PushedImage
) -> DeploymentTiming:
    """Deploy by digest; return the client's round-trip and the executor's event times."""
    start = time.perf_counter()
    try:
        reply = await client.deploy_artifact(deploy_request(avs, image), timeout=DEPLOY_TIMEOUT)
    except grpc.aio.AioRpcError as exc:
        return DeploymentTiming(image.tag, failed=f"{exc.code().name}: {exc.details()}")
    rpc = time.perf_counter() - start
    timing = recorder.deployments.get(reply.deployment_id) or DeploymentTiming(image.tag)
    timing.tag = image.tag
    timing.rpc = rpc
    if not reply.success:
        timing.failed = reply.message or "success=false"
    return timing


# --- load ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadSpec:
    target: str
    avs: str
    aggregator: str
    clients: int
    cap_seconds: float


@dataclass
class LoadResult:
    started: float
    stopped: float
    histories: list[list[tuple[float, float, str]]]
    """Per client, every answered task as (sent, done, RESULT_TAG), in order."""
    failures: list[tuple[int, float, str]]
    """(client, sent, "CODE: details") of every task that failed or answered wrongly."""


def _signed_payloads() -> list[tuple[bytes, bytes, bytes]]:
    """(payload, signature, expected square) triples, signed with the ponos aggregator key."""
    secret = next(
        int(k["sk_hex"], 16)
        for k in load_vector("bn254_keys.json")["keys"]
        if k["name"] == AGGREGATOR_KEY_NAME
    )
    triples = []
    for i in range(PAYLOADS):
        x = 3 + 7 * i
        payload = x.to_bytes(32, "big")
        square = (x * x % 2**256).to_bytes(32, "big")
        triples.append((payload, bn254.sign(secret, payload), square))
    return triples


async def _load(
    spec: LoadSpec,
    stop: multiprocessing.synchronize.Event,
    conn: multiprocessing.connection.Connection,
) -> None:
    signed = _signed_payloads()
    clients = [ExecutorClient(spec.target) for _ in range(spec.clients)]
    for client in clients:
        await client.wait_ready(10)
    run = uuid.uuid4().hex[:8]
    histories: list[list[tuple[float, float, str]]] = [[] for _ in clients]
    failures: list[tuple[int, float, str]] = []
    stopping = asyncio.Event()
    started = time.monotonic()

    async def worker(index: int) -> None:
        client, history = clients[index], histories[index]
        n = 0
        while not stopping.is_set():
            payload, signature, square = signed[(index + n) % PAYLOADS]
            request = pb.TaskSubmission(
                task_id=f"0x{run}{index:04x}{n:052x}",
                avs_address=spec.avs,
                payload=payload,
                aggregator_address=spec.aggregator,
                signature=signature,
            )
            n += 1
            sent = time.monotonic()
            try:
                result = await client.submit_task(request, timeout=TASK_TIMEOUT)
            except grpc.aio.AioRpcError as exc:
                failures.append((index, sent, f"{exc.code().name}: {exc.details()}"))
                continue
            done = time.monotonic()
            if result.output[:32] != square:
                failures.append((index, sent, "WRONG_RESULT: output is not the square"))
                continue
            history.append((sent, done, result.output[32:].decode(errors="replace")))

    async def stop_when_told() -> None:
        remaining = max(0.0, started + spec.cap_seconds - time.monotonic())
        await asyncio.to_thread(stop.wait, remaining)
        stopping.set()

    conn.send(("started", started))
    await asyncio.gather(stop_when_told(), *(worker(i) for i in range(spec.clients)))
    stopped = time.monotonic()
    for client in clients:
        await client.aclose()
    conn.send(("done", LoadResult(started, stopped, histories, failures)))


def _load_process(
    spec: LoadSpec,
    stop: multiprocessing.synchronize.Event,
    conn: multiprocessing.connection.Connection,
) -> None:
    """The load generator's process: an aggregator is another machine, not the executor's loop."""
    try:
        asyncio.run(_load(spec, stop, conn))
    except BaseException as exc:
        conn.send(("error", repr(exc)))
        raise


def ordering_violations(
    history: Sequence[tuple[float, float, str]], promotions: Sequence[float], tags: Sequence[str]
) -> list[int]:
    """Return, per task that breaks the order, the generation it was expected to be served by.

    Generation g is the image in service after g promotions (`tags[g]`, `promotions[g - 1]` its
    promotion time, on the same monotonic clock as the history: CLOCK_MONOTONIC is system-wide).
    A task sent at `sent` and answered at `done` was given a performer somewhere in between, so it
    may be served by any generation in service then; it must also not be served by a generation
    older than the client's previous task. Greedily assign each task the oldest generation its tag
    and those bounds allow; a task for which none exists is a violation (an old image seen after
    a newer one, or after the swap was complete).
    """
    violations = []
    previous = 0
    for sent, done, tag in history:
        low = max(previous, bisect.bisect_right(promotions, sent))
        high = bisect.bisect_right(promotions, done)
        generation = next((g for g in range(low, high + 1) if tags[g] == tag), None)
        if generation is None:
            violations.append(low)
        else:
            previous = generation
    return violations


def across_promotion(
    histories: Sequence[Sequence[tuple[float, float, str]]], promotions: Sequence[float]
) -> int:
    """Count tasks that were in flight at a promotion (sent before it, answered after it)."""
    return sum(
        1
        for history in histories
        for sent, done, _ in history
        if bisect.bisect_right(promotions, sent) != bisect.bisect_right(promotions, done)
    )


# --- the run --------------------------------------------------------------------------------


@dataclass
class Results:
    network: str
    health_interval: float
    warmup: list[DeploymentTiming]
    idle: list[DeploymentTiming]
    loaded: list[DeploymentTiming]
    load: LoadResult | None
    load_error: str | None
    tags_in_service: list[str]
    promotions: list[float]
    clients: int


def bench_config(network: str) -> ExecutorConfig:
    return attrs.evolve(load_config(CONFIG), performer_network_name=network)


async def run_rounds(
    client: ExecutorClient,
    recorder: Recorder,
    avs: str,
    images: dict[str, PushedImage],
    serving: str,
    rounds: int,
    deadline: float | None = None,
) -> list[DeploymentTiming]:
    """Alternate the image `rounds` times, starting with the one that is not `serving`."""
    timings: list[DeploymentTiming] = []
    for _ in range(rounds):
        longest = max((t.rpc for t in timings), default=5.0)
        if deadline is not None and time.monotonic() + 1.5 * longest > deadline:
            print(f"  stopped after {len(timings)} rounds: the load's time cap is near")
            break
        serving = "v2" if serving == "v1" else "v1"
        timing = await deploy(client, recorder, avs, images[serving])
        timings.append(timing)
        if timing.failed:
            print(f"  deployment of {serving} failed: {timing.failed}")
            break
    return timings


async def run_bench(registry: LocalRegistry, rounds: int, clients: int) -> Results:
    network = f"bench-deploy-{uuid.uuid4().hex[:10]}"
    config = bench_config(network)
    avs = config.avs_performers[0].avs_address.value
    aggregator = config.simulation.simulate_peering.aggregator_peers[0].operator_address.value
    images = {"v1": registry.v1, "v2": registry.v2}
    recorder = Recorder()
    app = await build_executor(config, host="127.0.0.1", port=0)
    app.executor.subscribe(recorder.listener)
    recorder.time_runtime(app)
    label = f"{INSTANCE_LABEL}={app.instance_id}"
    load: LoadResult | None = None
    load_error: str | None = None
    loaded: list[DeploymentTiming] = []
    try:
        await app.start()
        print(f"executor on 127.0.0.1:{app.port}, instance {app.instance_id}, network {network}")
        async with ExecutorClient(f"127.0.0.1:{app.port}") as client:
            warmup = [
                await deploy(client, recorder, avs, images[tag]) for tag in ("v1", "v2", "v1")
            ]
            for name, timing in zip(("v1 (pull)", "v2 (pull)", "v1 (local)"), warmup, strict=True):
                state = (
                    f"failed: {timing.failed}"
                    if timing.failed
                    else f"{timing.rpc:.2f} s (image check/pull {timing.ensure_image:.2f} s)"
                )
                print(f"  warm-up deploy {name}: {state}")
            if any(t.failed for t in warmup):
                raise RuntimeError("a warm-up deployment failed")
            print(f"idle: {rounds} deployments alternating v2 / v1")
            idle = await run_rounds(client, recorder, avs, images, "v1", rounds)
            serving = idle[-1].tag if idle else "v1"
            print(f"under load: {clients} clients, {rounds} deployments")
            tags_in_service = [serving]
            ctx = multiprocessing.get_context("spawn")
            stop = ctx.Event()
            receiver, sender = ctx.Pipe(duplex=False)
            spec = LoadSpec(f"127.0.0.1:{app.port}", avs, aggregator, clients, LOAD_CAP_SECONDS)
            process = ctx.Process(target=_load_process, args=(spec, stop, sender), daemon=True)
            process.start()
            try:
                kind, value = await asyncio.to_thread(receiver.recv)
                if kind != "started":
                    raise RuntimeError(f"the load process failed: {value}")
                await asyncio.sleep(LOAD_LEAD_SECONDS)
                deadline = value + LOAD_CAP_SECONDS - LOAD_TAIL_SECONDS
                loaded = await run_rounds(
                    client, recorder, avs, images, serving, rounds, deadline=deadline
                )
                tags_in_service += [t.tag for t in loaded if not t.failed]
                await asyncio.sleep(LOAD_TAIL_SECONDS)
                stop.set()
                kind, value = await asyncio.to_thread(receiver.recv)
                if kind == "done":
                    load = value
                else:
                    load_error = str(value)
            finally:
                stop.set()
                await asyncio.to_thread(process.join, 15)
                if process.is_alive():
                    process.kill()
                    process.join()
    finally:
        await app.stop(grace=5)
    left = containers_with_label(label)
    if left:
        print(f"warning: containers of this executor are left: {left}")
    promotions = sorted(t.promoted for t in loaded if t.promoted is not None)
    return Results(
        network=network,
        health_interval=config.avs_performers[0].health.check_interval,
        warmup=warmup,
        idle=idle,
        loaded=loaded,
        load=load,
        load_error=load_error,
        tags_in_service=tags_in_service,
        promotions=promotions,
        clients=clients,
    )


# --- reporting ------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    docker = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return (
        f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Docker {docker or 'unknown'}"
    )


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [
            cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if n == 0:
            lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def _stat_row(name: str, samples: list[float], target: float | None = None) -> list[str]:
    """Median, p90 and max; with a target, PASS when even the slowest sample meets it."""
    if not samples:
        return [name, "0", "-", "-", "-", "-", "-"]
    median, p90, worst = statistics.median(samples), percentile(samples, 0.9), max(samples)
    verdict = "-"
    if target is not None:
        verdict = _verdict(worst <= target)
    return [
        name,
        str(len(samples)),
        f"{median:.3f}",
        f"{p90:.3f}",
        f"{worst:.3f}",
        "-" if target is None else f"{target:g}",
        verdict,
    ]


def deployment_rows(label: str, timings: list[DeploymentTiming]) -> list[list[str]]:
    ok = [t for t in timings if not t.failed]
    promotion = [t.to_promotion for t in ok if t.to_promotion is not None]
    ready = [t.readiness_wait for t in ok if t.readiness_wait is not None]
    return [
        _stat_row(f"{label}: DeployArtifact round-trip", [t.rpc for t in ok]),
        _stat_row(f"{label}: Started -> Promoted", promotion, TARGET_PROMOTION_S),
        _stat_row(f"{label}:   image check (ensure_image)", [t.ensure_image for t in ok]),
        _stat_row(f"{label}:   container start", [t.start_container for t in ok]),
        _stat_row(f"{label}:   readiness wait (Staged -> Promoted)", ready),
    ]


def report(results: Results) -> int:
    header = ["measurement (seconds)", "n", "median", "p90", "max", "target", "result"]
    rows = [header, *deployment_rows("idle", results.idle)]
    rows += deployment_rows(f"{results.clients} clients", results.loaded)
    print()
    print(f"machine: {machine()}")
    print(
        f"readiness poll while deploying: every {READY_POLL_SECONDS:g} s "
        f"(executor_core.live_performer.READY_POLL_SECONDS); periodic health check: every "
        f"{results.health_interval:g} s (health.checkInterval; not used to promote)"
    )
    print(
        f"target: Started -> Promoted <= {TARGET_PROMOTION_S:g} s for every deployment "
        f"(upstream: >= {UPSTREAM_PROMOTION_S:g} s)"
    )
    print()
    print(table(rows))
    failed_deployments = [t for t in results.idle + results.loaded if t.failed]
    verdicts = [row[-1] for row in rows[1:]]
    ok = not failed_deployments and "MISS" not in verdicts
    print()
    load = results.load
    if load is None:
        print(f"load: no result ({results.load_error})")
        return 1
    duration = load.stopped - load.started
    answered = sum(len(h) for h in load.histories)
    total = answered + len(load.failures)
    violations_by_swap: Counter[int] = Counter()
    for history in load.histories:
        violations_by_swap.update(
            ordering_violations(history, results.promotions, results.tags_in_service)
        )
    violations = sum(violations_by_swap.values())
    crossing = across_promotion(load.histories, results.promotions)
    load_rows = [
        ["load", "value", "target", "result"],
        ["clients", str(results.clients), "-", "-"],
        ["deployments during the load", str(len(results.promotions)), "-", "-"],
        ["load duration s", f"{duration:.1f}", "-", "-"],
        ["tasks submitted", str(total), "-", "-"],
        ["tasks per second", f"{total / duration:.0f}", "-", "-"],
        ["tasks in flight across a promotion", str(crossing), "-", "-"],
        ["failed tasks", str(len(load.failures)), "0", _verdict(len(load.failures) == 0)],
        ["ordering violations", str(violations), "0", _verdict(violations == 0)],
    ]
    print(table(load_rows))
    if violations:
        print(f"violations by generation: {dict(sorted(violations_by_swap.items()))}")
    if load.failures:
        print("failures by kind:")
        for kind, count in Counter(f.split(":")[0] for _, _, f in load.failures).most_common():
            example = next(f for _, _, f in load.failures if f.startswith(kind))
            print(f"  {count:6d}  {example[:160]}")
    for timing in failed_deployments:
        print(f"failed deployment ({timing.tag}): {timing.failed}")
    ok = ok and not load.failures and violations == 0
    return 0 if ok else 1


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=10, help="deployments per phase (10)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent task clients (20)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.clients < 1:
        parser.error("--rounds and --clients must be at least 1")
    began = time.monotonic()
    try:
        with running_registry() as registry:
            print(
                f"registry on {registry.url}: v1 {registry.v1.digest[:19]}…, "
                f"v2 {registry.v2.digest[:19]}… ({time.monotonic() - began:.1f} s to set up)"
            )
            results = asyncio.run(run_bench(registry, args.rounds, args.clients))
    except pytest.skip.Exception as exc:
        print(f"cannot run: {exc.msg}", file=sys.stderr)
        return 2
    status = report(results)
    print(f"\ntotal run time {time.monotonic() - began:.0f} s (registry stopped, images removed)")
    return status


if __name__ == "__main__":
    sys.exit(main())
