"""Throughput benchmark: signed tasks per second through the executor, against its own performer.

Run from the repository root after `make setup` (it sets up Docker, the example image and ghz
itself when they are missing):

    .venv/bin/python bench/throughput.py                  # about 4 minutes
    .venv/bin/python bench/throughput.py --seconds 5 --concurrency 1,16

What it does, all on 127.0.0.1:

1. Starts `executor run` as a separate process with a generated config: the example performer
   image (one container, published on a loopback port), the operator's BN254 keystore from
   examples/keys, and the ponos aggregator's public key as the only aggregator peer.
2. For each concurrency, runs the same closed-loop load with ghz (a Go gRPC load generator,
   pinned, built by scripts/install-ghz.sh) first against the performer container directly
   (`PerformerService/ExecuteTask`) and then against the executor (`ExecutorService/SubmitTask`).
   Every request has its own task id and payload, and every executor request its own aggregator
   signature (BN254 over the payload, RFC 9380 hash), all made before the timed run; ghz takes
   them from a JSON array, one element per request, so no cache can help.
3. While the executor is saturated at the highest concurrency, a second ghz calls
   `grpc.health.v1.Health/Check` 100 times a second and reports its latencies.
4. Valid traffic at concurrency 4, alone and then beside a flood of bad signatures at
   concurrency 16 (signatures of other payloads: valid curve points, so each costs a pairing).
5. Sends a sample of tasks with a Python client and checks each result: the output is the
   payload's square and the result signature verifies under the operator's G2 key.
6. Reads the executor's own per-task log lines of the concurrency-1 run for the time spent in
   verification, the performer call and signing.

It prints one table per part and the targets of issue #8. The executor's RSS is its process's
(the crypto runs in its threads; there are no worker processes).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
import json
import math
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for `tests.vectors`

from executor_adapters.grpc.executor_client import ExecutorClient  # noqa: E402
from executor_adapters.signing import bn254, keccak256  # noqa: E402
from hourglass_proto.eigenlayer.hourglass import v1 as pb  # noqa: E402
from tests.vectors import load_vector  # noqa: E402

AVS = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
OPERATOR = "0x6b58f6762689df33fe8fa3fc40fb5a3089d3a8cc"
AGGREGATOR = "0x90f79bf6eb2c4f870365e785982e1f101e93b906"
IMAGE_REPOSITORY, IMAGE_TAG = "hourglass-example-performer", "latest"
PROTO = REPO / "proto"
EXECUTOR_PROTO = "eigenlayer/hourglass/v1/executor/executor.proto"
PERFORMER_PROTO = "eigenlayer/hourglass/v1/performer/performer.proto"
INSTANCE_LABEL = "com.eigenlayer.hourglass.executor-instance"
SAMPLE = 200
CALIBRATION_SECONDS = 2
FLOOD_VALID_CONCURRENCY = 4
FLOOD_BAD_CONCURRENCY = 16
HEALTH_RPS = 100
TARGET_RATIOS = {1: 0.35, 16: 0.65, 64: 0.75}
GO_RATIOS = {1: 0.28, 16: 0.51, 64: 0.61}
TARGET_C1_P50_OVER_DIRECT_MS = 1.5
TARGET_RSS_MB = 130.0
TARGET_HEALTH_P99_MS = 5.0
TARGET_FLOOD_KEEP = 0.5


def say(text: str) -> None:
    print(f"bench | {text}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def key_pair(name: str) -> tuple[int, bytes]:
    entry = next(k for k in load_vector("bn254_keys.json")["keys"] if k["name"] == name)
    return int(entry["sk_hex"], 16), bytes.fromhex(entry["pubkey_g2_bytes_hex"])


# --- setup ------------------------------------------------------------------------------------


def run_script(*args: str) -> str:
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def prepare() -> Path:
    """Docker engine, the example image and ghz; return ghz's path."""
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        run_script("bash", "scripts/setup-env.sh")
    python = os.environ.get("PYTHON", sys.executable)
    subprocess.run(
        ["bash", "examples/performer/build-image.sh"],
        cwd=REPO,
        env={**os.environ, "PYTHON": python},
        check=True,
        capture_output=True,
    )
    if bn254.backend().startswith("python"):
        say("warning: the native BN254 library is not built; run make setup for real figures")
    return Path(run_script("bash", "scripts/install-ghz.sh"))


def write_config(directory: Path, port: int, aggregator_pk: bytes) -> Path:
    keystore = REPO / "examples" / "keys" / "executor-bn254.json"
    config = {
        "grpcPort": port,
        "operator": {
            "address": OPERATOR,
            "signingKeys": {"bls": {"keystoreFile": str(keystore), "password": ""}},
        },
        "avsPerformers": [
            {
                "avsAddress": AVS,
                "image": {"repository": IMAGE_REPOSITORY, "tag": IMAGE_TAG},
                "signingCurve": "bn254",
                "workerCount": 256,
                "taskQueueSize": 256,
                "health": {"checkInterval": "5s", "timeout": "2s"},
            }
        ],
        "simulation": {
            "simulatePeering": {
                "enabled": True,
                "aggregatorPeers": [
                    {"operatorAddress": AGGREGATOR, "publicKey": aggregator_pk.hex()}
                ],
            }
        },
        "logging": {"level": "info", "format": "json"},
    }
    path = directory / "executor.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


@dataclass
class Executor:
    process: subprocess.Popen[bytes]
    target: str
    performer_target: str
    log_path: Path


async def start_executor(directory: Path, aggregator_pk: bytes, src: Path | None) -> Executor:
    """`src`: run the executor from another checkout's src/ (a baseline), with this venv."""
    port = free_port()
    config = write_config(directory, port, aggregator_pk)
    log_path = directory / "executor.log"
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    command = [
        sys.executable,
        "-m",
        "executor_app",
        "run",
        "--config",
        str(config),
        "--listen-host",
        "127.0.0.1",
    ]
    process = subprocess.Popen(  # noqa: ASYNC220 - starts it and goes on; nothing blocks
        command, stderr=log_path.open("wb"), stdout=subprocess.DEVNULL, env=env
    )
    target = f"127.0.0.1:{port}"
    async with ExecutorClient(target) as client:
        for _ in range(240):
            if process.poll() is not None:
                raise SystemExit(f"the executor exited with {process.returncode}; see {log_path}")
            with contextlib.suppress(Exception):
                performers = (await client.list_performers(timeout=2)).performers
                ready = [p for p in performers if p.status == "InService"]
                if ready:
                    container = ready[0].container_id
                    break
            await asyncio.sleep(0.5)
        else:
            raise SystemExit("no performer came into service within 120 s")
    port_line = run_script("docker", "port", container, "8080/tcp").splitlines()[0]
    return Executor(process, target, port_line.strip(), log_path)


def instance_id(log_path: Path) -> str:
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if record.get("msg") == "executor starting":
                return str(record["executorInstance"])
    return ""


def stop_executor(executor: Executor) -> tuple[int | None, int]:
    """SIGINT (what Ctrl-C does); return its exit code and the containers it left."""
    ident = instance_id(executor.log_path)
    executor.process.send_signal(signal.SIGINT)
    try:
        code: int | None = executor.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        code = None
    left = 0
    if ident:
        listed = run_script("docker", "ps", "-aq", "--filter", f"label={INSTANCE_LABEL}={ident}")
        left = len(listed.split())
    return code, left


# --- requests -----------------------------------------------------------------------------------


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def payload_of(run: str, index: int) -> bytes:
    return (int.from_bytes(run.encode(), "big") << 64 | index).to_bytes(32, "big")


def executor_requests(
    run: str, count: int, *, aggregator_sk: int, bad: bool = False
) -> list[dict[str, str]]:
    """Signed TaskSubmissions, signed on every core (the native signer releases the GIL)."""

    def one(i: int) -> dict[str, str]:
        payload = payload_of(run, i)
        signed = payload_of(run + "x", i) if bad else payload
        return {
            "task_id": f"0x{keccak256(f'{run}-{i}'.encode()).hex()}",
            "avs_address": AVS,
            "aggregator_address": AGGREGATOR,
            "payload": b64(payload),
            "signature": b64(bn254.sign(aggregator_sk, signed)),
        }

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, range(count), chunksize=256))


def direct_requests(run: str, count: int) -> list[dict[str, str]]:
    return [
        {"task_id": b64(f"0x{keccak256(f'{run}-{i}'.encode()).hex()}".encode()),
         "payload": b64(payload_of(run, i))}
        for i in range(count)
    ]  # fmt: skip


# --- ghz ----------------------------------------------------------------------------------------


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    count: int
    ok: int
    codes: dict[str, int]
    data: int

    @property
    def failed(self) -> int:
        return self.count - self.ok


def _latency(report: dict[str, Any], percentage: int) -> float:
    for entry in report.get("latencyDistribution") or []:
        if entry["percentage"] == percentage:
            return float(entry["latency"]) / 1e6
    return math.nan


def ghz_command(
    ghz: Path, target: str, call: str, proto: Path, *, concurrency: int, length: str
) -> list[str]:
    """`length` is `-z 2s` (a duration) or `-n 5000` (a count of requests)."""
    command = [str(ghz), "--insecure", "--call", call, "-c", str(concurrency), *length.split()]
    command += ["--timeout", "30s", "--format", "json", "--proto", str(proto)]
    return [*command, "--import-paths", str(proto.parent), target]


def parse_report(text: str, data: int) -> Load:
    report = json.loads(text)
    codes = {str(k): int(v) for k, v in (report.get("statusCodeDistribution") or {}).items()}
    return Load(
        rps=float(report.get("rps", 0.0)),
        p50_ms=_latency(report, 50),
        p99_ms=_latency(report, 99),
        count=int(report.get("count", 0)),
        ok=codes.get("OK", 0),
        codes=codes,
        data=data,
    )


def data_file(directory: Path, name: str, requests: Sequence[dict[str, str]]) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(list(requests)), encoding="utf-8")
    return path


@dataclass(frozen=True)
class Rpc:
    call: str
    proto: Path


EXECUTE = Rpc(
    "eigenlayer.hourglass.v1.performer.PerformerService.ExecuteTask", PROTO / PERFORMER_PROTO
)
SUBMIT = Rpc("eigenlayer.hourglass.v1.ExecutorService.SubmitTask", PROTO / EXECUTOR_PROTO)
HEALTH = Rpc("grpc.health.v1.Health.Check", REPO / "bench" / "protos" / "health.proto")


def ghz_start(
    ghz: Path,
    target: str,
    rpc: Rpc,
    requests: Sequence[dict[str, str]] | None,
    directory: Path,
    name: str,
    *,
    concurrency: int,
    length: str,
    rps: int | None = None,
) -> subprocess.Popen[str]:
    command = ghz_command(ghz, target, rpc.call, rpc.proto, concurrency=concurrency, length=length)
    if requests is not None:
        command[-1:-1] = ["--data-file", str(data_file(directory, name, requests))]
    if rps is not None:
        command[-1:-1] = ["--rps", str(rps)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ghz_run(
    ghz: Path,
    target: str,
    rpc: Rpc,
    requests: Sequence[dict[str, str]],
    directory: Path,
    name: str,
    *,
    concurrency: int,
    length: str,
) -> Load:
    process = ghz_start(
        ghz, target, rpc, requests, directory, name, concurrency=concurrency, length=length
    )
    return ghz_finish(process, len(requests))


def measured(
    ghz: Path,
    target: str,
    rpc: Rpc,
    make: Callable[[str, int], list[dict[str, str]]],
    directory: Path,
    name: str,
    *,
    concurrency: int,
    seconds: float,
    beside: Callable[[float], subprocess.Popen[str]] | None = None,
) -> tuple[Load, list[dict[str, str]], Load | None]:
    """A 2 s calibration run (discarded; it also warms up), then a run of exactly as many fresh
    requests as the calibration says fit in `seconds`: counted, so that no request is reused
    and none is cut off at the end. `beside` starts a second load for the timed run."""
    calibration = ghz_run(
        ghz, target, rpc, make(f"{name}-cal", int(4000 * CALIBRATION_SECONDS)), directory,
        f"{name}-cal", concurrency=concurrency, length=f"-z {CALIBRATION_SECONDS}s",
    )  # fmt: skip
    count = max(int(calibration.rps * seconds), 20 * concurrency)
    requests = make(name, count)
    side = beside(count / max(calibration.rps, 1.0)) if beside is not None else None
    load = ghz_run(
        ghz, target, rpc, requests, directory, name, concurrency=concurrency, length=f"-n {count}"
    )
    side_load = ghz_finish(side, 0) if side is not None else None
    return load, requests, side_load


def ghz_finish(process: subprocess.Popen[str], data: int) -> Load:
    """Wait for a ghz started by `ghz_start` and read its report."""
    out, err = process.communicate(timeout=300)
    if not out.strip():
        raise SystemExit(f"ghz failed: {err}")
    return parse_report(out, data)


# --- resident memory ------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """VmRSS of the process and of its children (none are expected), in MB."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            pids.append(int(line))
    for each in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{each}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


@contextlib.contextmanager
def peak_rss(pid: int) -> Iterator[list[float]]:
    peak = [rss_mb(pid)]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.2):
            peak[0] = max(peak[0], rss_mb(pid))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


# --- checks and breakdown ----------------------------------------------------------------------


async def check_sample(target: str, aggregator_sk: int, operator_pk: bytes) -> tuple[int, int]:
    """Send SAMPLE tasks, check each output and result signature; return (checked, bad)."""
    bad = 0
    run = secrets.token_hex(4)
    async with ExecutorClient(target) as client:
        for i in range(SAMPLE):
            payload = payload_of(run, i)
            request = pb.TaskSubmission(
                task_id=f"0x{keccak256(f'{run}-s-{i}'.encode()).hex()}",
                avs_address=AVS,
                aggregator_address=AGGREGATOR,
                payload=payload,
                signature=bn254.sign(aggregator_sk, payload),
            )
            result = await client.submit_task(request, timeout=30)
            x = int.from_bytes(payload, "big")
            square = (x * x % 2**256).to_bytes(32, "big")
            signed = bn254.verify_solidity(
                operator_pk, keccak256(result.output), result.result_signature
            )
            bad += result.output != square or not signed
    return SAMPLE, bad


def breakdown(log_path: Path, task_ids: set[str]) -> dict[str, float]:
    """Medians of the executor's per-task stage times (ms) over the given tasks."""
    stages: dict[str, list[float]] = {"durationMs": [], "verifyMs": [], "performerMs": []}
    stages["signMs"] = []
    for line in log_path.read_text(encoding="utf-8", errors="replace").splitlines():
        if '"task completed"' not in line:
            continue
        record = json.loads(line)
        if record.get("taskId") in task_ids:
            for key, values in stages.items():
                if key in record:  # older executors log durationMs only
                    values.append(float(record[key]))
    return {
        key: statistics.median(values) if values else math.nan for key, values in stages.items()
    }


# --- the run ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    ghz = prepare()
    aggregator_sk, aggregator_pk = key_pair("ponos-aggregator")
    _, operator_pk = key_pair("ponos-executor")
    seconds: float = args.seconds
    levels = [int(c) for c in args.concurrency.split(",")]
    tag = secrets.token_hex(3)
    rows: list[list[object]] = []
    results: dict[tuple[str, int], Load] = {}
    with tempfile.TemporaryDirectory(prefix="executor-bench-") as temp:
        directory = Path(temp)
        executor = asyncio.run(start_executor(directory, aggregator_pk, args.src))
        say(f"executor {executor.target}, performer {executor.performer_target}")
        say(f"executor from {args.src or 'this checkout'}; BN254 here: {bn254.backend()}")
        try:
            signed = functools.partial(executor_requests, aggregator_sk=aggregator_sk)
            c1_ids: set[str] = set()
            health: Load | None = None
            peak = 0.0
            for c in levels:
                direct, _, _ = measured(
                    ghz, executor.performer_target, EXECUTE, direct_requests, directory,
                    f"{tag}-direct-{c}", concurrency=c, seconds=seconds,
                )  # fmt: skip
                results[("direct", c)] = direct
                probe = None
                if c == max(levels):
                    probe = functools.partial(
                        ghz_start, ghz, executor.target, HEALTH, None, directory, "health",
                        concurrency=1, rps=HEALTH_RPS,
                    )  # fmt: skip
                with peak_rss(executor.process.pid) as rss:
                    load, requests, health_load = measured(
                        ghz, executor.target, SUBMIT, signed, directory, f"{tag}-exec-{c}",
                        concurrency=c, seconds=seconds,
                        beside=(lambda s, p=probe: p(length=f"-z {max(s - 1, 1):.1f}s"))
                        if probe else None,
                    )  # fmt: skip
                health = health_load or health
                peak = max(peak, rss[0])
                results[("executor", c)] = load
                if c == 1:
                    c1_ids = {r["task_id"] for r in requests}
                say(f"c={c}: direct {direct.rps:.0f} rps, executor {load.rps:.0f} rps")
            say("flood: valid c=4 alone, then beside a c=16 bad-signature flood")
            alone, _, _ = measured(
                ghz, executor.target, SUBMIT, signed, directory, f"{tag}-alone",
                concurrency=FLOOD_VALID_CONCURRENCY, seconds=seconds,
            )  # fmt: skip
            flood_requests = executor_requests(
                f"{tag}-bad", 6000, aggregator_sk=aggregator_sk, bad=True
            )
            flood = ghz_start(
                ghz, executor.target, SUBMIT, flood_requests, directory, "flood",
                concurrency=FLOOD_BAD_CONCURRENCY, length=f"-z {10 * seconds + 10:g}s",
            )  # fmt: skip
            time.sleep(1.0)
            count = max(int(alone.rps * seconds), 100)
            beside = ghz_run(
                ghz, executor.target, SUBMIT, signed(f"{tag}-beside", count), directory,
                "beside", concurrency=FLOOD_VALID_CONCURRENCY, length=f"-n {count}",
            )  # fmt: skip
            flood.send_signal(signal.SIGINT)  # ghz stops and reports what it did
            flooded = ghz_finish(flood, len(flood_requests))
            checked, bad = asyncio.run(check_sample(executor.target, aggregator_sk, operator_pk))
            stages = breakdown(executor.log_path, c1_ids)
        finally:
            code, left = stop_executor(executor)

    machine = platform.processor() or platform.machine()
    print(f"\nBN254 backend: {bn254.backend()}; {machine}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {seconds:g} s per run\n")  # fmt: skip
    for c in levels:
        direct, load = results[("direct", c)], results[("executor", c)]
        ratio = load.rps / direct.rps if direct.rps else 0.0
        target = TARGET_RATIOS.get(c)
        rows.append(["direct", c, f"{direct.rps:.0f}", f"{direct.p50_ms:.2f}",
                     f"{direct.p99_ms:.2f}", "-", "-", direct.failed, "-", "-"])  # fmt: skip
        rows.append(["executor", c, f"{load.rps:.0f}", f"{load.p50_ms:.2f}",
                     f"{load.p99_ms:.2f}", f"{ratio:.2f}", GO_RATIOS.get(c, "-"), load.failed,
                     target or "-", verdict(ratio >= target) if target else "-"])  # fmt: skip
    print(table(["target", "c", "rps", "p50 ms", "p99 ms", "exec/direct", "Go", "failed",
                 "target", "result"], rows))  # fmt: skip
    c1 = results.get(("executor", 1)), results.get(("direct", 1))
    over = c1[0].p50_ms - c1[1].p50_ms if c1[0] and c1[1] else math.nan
    reuse = [f"{k[0]} c={k[1]}" for k, v in results.items() if v.count > v.data]
    kept = beside.rps / alone.rps if alone.rps else 0.0
    checks = [
        ["p50 at c=1 above direct, ms", f"{over:.2f}", f"<= {TARGET_C1_P50_OVER_DIRECT_MS}",
         verdict(over <= TARGET_C1_P50_OVER_DIRECT_MS)],
        ["executor peak RSS, MB", f"{peak:.1f}", f"<= {TARGET_RSS_MB:g}",
         verdict(peak <= TARGET_RSS_MB)],
        ["health Check p99 while saturated, ms", f"{health.p99_ms:.2f}" if health else "-",
         f"<= {TARGET_HEALTH_P99_MS:g}",
         verdict(health is not None and health.p99_ms <= TARGET_HEALTH_P99_MS)],
        ["health Check p50 while saturated, ms", f"{health.p50_ms:.2f}" if health else "-",
         "-", "-"],
        ["failed tasks (all runs)", sum(v.failed for v in results.values()), "0",
         verdict(all(v.failed == 0 for v in results.values()))],
        ["valid rps at c=4, alone", f"{alone.rps:.0f}", "-", "-"],
        ["valid rps at c=4, beside a c=16 bad flood", f"{beside.rps:.0f}", "-", "-"],
        ["kept under the flood", f"{kept:.2f}", f">= {TARGET_FLOOD_KEEP}",
         verdict(kept >= TARGET_FLOOD_KEEP)],
        ["flood answers", ", ".join(f"{k} {v}" for k, v in flooded.codes.items()),
         "Unauthenticated (and at most 16 cut off at its end)",
         verdict(flooded.codes.get("OK", 0) == 0 and sum(v for k, v in flooded.codes.items()
                 if k != "Unauthenticated") <= FLOOD_BAD_CONCURRENCY)],
        ["valid failed beside the flood", beside.failed, "0", verdict(beside.failed == 0)],
        ["sampled results checked / bad", f"{checked} / {bad}", "0 bad", verdict(bad == 0)],
        ["requests reused (array too short)", ", ".join(reuse) or "none", "none",
         verdict(not reuse)],
        ["executor exit code / containers left", f"{code} / {left}", "0 / 0",
         verdict(code == 0 and left == 0)],
    ]  # fmt: skip
    print()
    print(table(["measurement", "value", "target", "result"], checks))
    print()
    direct_p50 = c1[1].p50_ms if c1[1] else math.nan
    exec_p50 = c1[0].p50_ms if c1[0] else math.nan
    parts = [
        ["executor p50 (client side)", f"{exec_p50:.3f}"],
        ["  receive + parse + reply (p50 minus the core's median)",
         f"{exec_p50 - stages['durationMs']:.3f}"],
        ["  core total", f"{stages['durationMs']:.3f}"],
        ["    verify (aggregator signature)", f"{stages['verifyMs']:.3f}"],
        ["    performer call", f"{stages['performerMs']:.3f}"],
        ["    sign (result)", f"{stages['signMs']:.3f}"],
        ["direct p50 (same performer, ghz)", f"{direct_p50:.3f}"],
    ]  # fmt: skip
    if 1 in levels:
        print(table(["c=1 per-task cost", "ms"], parts))
    failed = [row for row in checks if row[-1] == "FAIL"] + [r for r in rows if r[-1] == "FAIL"]
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each timed run")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated levels")
    parser.add_argument(
        "--src",
        type=Path,
        help="run the executor from this src/ folder instead (e.g. a worktree of an older "
        "commit, to compare in one run); the BN254 figures then are that tree's",
    )
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
