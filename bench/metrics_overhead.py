"""What metrics cost on the task path: signed tasks per second with `/metrics` on and off.

    .venv/bin/python bench/metrics_overhead.py            # about 1.5 minutes
    .venv/bin/python bench/metrics_overhead.py --seconds 5 --concurrency 16

Two executors run side by side on the example performer image (real Docker), the same config
but for `metrics.enabled`; while one is under load the other idles. Phases alternate
off-on-on-off-off-on… so the machine's drift lands on both equally, and the figure is the ratio
of their totals within this one run. Each task is aggregator-signed (BN254) before the timed
phases; results are counted only when their output is the payload's square. Prometheus-style
scrapes of the metrics executor run every second during its phases, as a real scraper would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import attrs
import grpc

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from executor_adapters.config import MetricsConfig, load_config  # noqa: E402
from executor_app.bootstrap import ExecutorApp, build_executor  # noqa: E402
from hourglass_proto.eigenlayer.hourglass import v1 as pb  # noqa: E402
from tests.e2e.signed_tasks import SUBMIT, signed_task  # noqa: E402

TARGET = 0.03


@contextlib.asynccontextmanager
async def executor(name: str, *, metrics: bool) -> AsyncIterator[ExecutorApp]:
    config = load_config(REPO / "examples/config/executor.yaml")
    config = attrs.evolve(
        config,
        performer_network_name=f"executor-bench-metrics-{name}",
        metrics=MetricsConfig(enabled=metrics, port=0),
    )
    app = await build_executor(config, host="127.0.0.1", port=0)
    await app.start()
    try:
        yield app
    finally:
        await app.stop(grace=5)


async def phase(
    app: ExecutorApp, requests: list[tuple[int, bytes]], seconds: float, concurrency: int
) -> int:
    """Tasks answered correctly within `seconds` at `concurrency` (closed loop)."""
    done = 0
    queue = iter(requests)
    deadline = time.monotonic() + seconds
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        submit = channel.unary_unary(
            SUBMIT, request_serializer=lambda b: b, response_deserializer=pb.TaskResult.FromString
        )

        async def worker() -> None:
            nonlocal done
            for n, body in queue:
                if time.monotonic() >= deadline:
                    return
                result = await submit(body, timeout=10)
                if result.output[:32] == (n * n).to_bytes(32, "big"):
                    done += 1

        async def scrape() -> None:
            if app.node_api is None:
                return
            url = f"http://127.0.0.1:{app.node_api.port}/metrics"
            async with aiohttp.ClientSession() as session:
                while time.monotonic() < deadline:
                    async with session.get(url) as response:
                        await response.read()
                    await asyncio.sleep(1)

        await asyncio.gather(scrape(), *(worker() for _ in range(concurrency)))
    return done


async def run(seconds: float, concurrency: int, rounds: int) -> int:
    per_phase = int(seconds * 2000)
    total = per_phase * rounds * 2
    print(f"signing {total} tasks…", flush=True)
    requests = [(i, bytes(signed_task(f"0x{i:064x}", i))) for i in range(1, total + 1)]
    counts = {"off": 0, "on": 0}
    async with executor("off", metrics=False) as off, executor("on", metrics=True) as on:
        apps = {"off": off, "on": on}
        order = [k for r in range(rounds) for k in (("off", "on") if r % 2 == 0 else ("on", "off"))]
        for number, kind in enumerate(order):
            batch = requests[number * per_phase : (number + 1) * per_phase]
            answered = await phase(apps[kind], batch, seconds, concurrency)
            counts[kind] += answered
            print(f"phase {number + 1:2d} metrics {kind:3s}: {answered / seconds:7.1f} tasks/s")
    rate_off = counts["off"] / (seconds * rounds)
    rate_on = counts["on"] / (seconds * rounds)
    cost = 1 - rate_on / rate_off
    verdict = "PASS" if cost < TARGET else "FAIL"
    print()
    print("| metrics | tasks/s (mean of phases) |")
    print("| --- | --- |")
    print(f"| off | {rate_off:.1f} |")
    print(f"| on (scraped every second) | {rate_on:.1f} |")
    print(f"| cost | {cost * 100:+.2f} % (target < {TARGET * 100:g} %): {verdict} |")
    return 0 if verdict == "PASS" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each phase")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=4, help="phases per setting")
    args = parser.parse_args()
    return asyncio.run(run(args.seconds, args.concurrency, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
