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

With `--go-relay` it also builds bench/go_relay (scripts/build-go-relay.sh), a Go stand-in for
an executor (grpc-go, one gnark-crypto pairing per task, the result signed), starts it in front
of the same performer container, runs the same kind of G1 requests through it in A-B-B-A order
with the executor at each concurrency, and checks a sample of its results: the Go executor of
Hourglass cannot be built here, and the stand-in puts a Go figure in the same run.

With `--generation g2` (the default is `g1,g2`) it also starts anvil with our EigenLayer mocks,
sets up the AVS's BN254 operator sets, points the executor's `l1Chain` at a counting JSON-RPC
proxy in front of anvil (one executor serves both generations: `acceptG1Tasks`), counts the
eth_calls of a first task, of tasks at fresh blocks and of the timed runs at one fixed block,
runs version-1 tasks (signed before the run) beside G1 at each concurrency in A-B-B-A order,
and checks G2 results (certificate-digest and auth signatures) in Python.

It prints one table per part, the targets of issue #8 and the G2/G1 ratio of issue #10.
The executor's RSS is its process's (the crypto runs in its threads; there are no worker
processes).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime
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
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for `tests.vectors`

from executor_adapters.grpc.executor_client import ExecutorClient  # noqa: E402
from executor_adapters.signing import bn254, keccak256  # noqa: E402
from hourglass_proto.eigenlayer.hourglass import v1 as pb  # noqa: E402
from tests.chain_support import (  # noqa: E402
    AnvilNode,
    ChainToolsMissing,
    DevChain,
    require_chain_tools,
)
from tests.g2_aggregator import G2Aggregator, auth_digest, bn254_digest  # noqa: E402
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
RELAY = "go-relay"
GO_RATIOS = {1: 0.28, 16: 0.51, 64: 0.61}
TARGET_C1_P50_OVER_DIRECT_MS = 1.5
TARGET_RSS_MB = 130.0
TARGET_HEALTH_P99_MS = 5.0
TARGET_FLOOD_KEEP = 0.5
GENERATIONS = ("g1", "g2")
AGGREGATOR_SET, EXECUTOR_SET, BN254_CURVE = 0, 1, 2  # operator sets on anvil; KeyRegistrar curve
COLD_TASKS = 20
TARGET_G2_OVER_G1 = {16: 0.9}

Request = dict[str, Any]


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


def write_config(directory: Path, port: int, aggregator_pk: bytes, l1_rpc: str | None) -> Path:
    """`l1_rpc` set: the executor also serves G2 tasks, reading the chain through it; G1
    tasks stay accepted (`acceptG1Tasks`, simulated peering), so one process serves both."""
    keystore = REPO / "examples" / "keys" / "executor-bn254.json"
    config: dict[str, Any] = {
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
    if l1_rpc is not None:
        config["l1Chain"] = {"rpcUrl": l1_rpc, "chainId": 31337}
        config["avsPerformers"][0]["acceptG1Tasks"] = True
    path = directory / "executor.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


@dataclass
class Executor:
    process: subprocess.Popen[bytes]
    target: str
    performer_target: str
    log_path: Path


async def start_executor(
    directory: Path, aggregator_pk: bytes, src: Path | None, l1_rpc: str | None = None
) -> Executor:
    """`src`: run the executor from another checkout's src/ (a baseline), with this venv."""
    port = free_port()
    config = write_config(directory, port, aggregator_pk, l1_rpc)
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


@dataclass
class GoRelay:
    process: subprocess.Popen[bytes]
    target: str


@contextlib.contextmanager
def go_relay(
    binary: str, directory: Path, performer_target: str, aggregator_pk: bytes, operator_sk: int
) -> Iterator[GoRelay]:
    """bench/go_relay in front of the executor's own performer container, stopped by pid."""
    target = f"127.0.0.1:{free_port()}"
    command = [
        binary, "-listen", target, "-performer", performer_target,
        "-aggregator-key", aggregator_pk.hex(), "-operator-key", f"{operator_sk:064x}",
        "-operator-address", OPERATOR,
    ]  # fmt: skip
    log_path = directory / "go-relay.log"
    process = subprocess.Popen(command, stderr=log_path.open("wb"), stdout=subprocess.DEVNULL)
    try:
        host, port = target.rsplit(":", 1)
        for _ in range(100):
            if process.poll() is not None:
                raise SystemExit(f"the Go relay exited with {process.returncode}; see {log_path}")
            with contextlib.suppress(OSError), socket.create_connection((host, int(port)), 0.2):
                break
            time.sleep(0.1)
        else:
            raise SystemExit("the Go relay did not listen within 10 s")
        yield GoRelay(process, target)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


# --- the chain (G2) -----------------------------------------------------------------------------


class RpcCounter:
    """A JSON-RPC forwarder on 127.0.0.1 in front of anvil that counts requests per method (each
    element of a batch array too), so eth_calls are counted outside the executor."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = 0
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="rpc-counter", daemon=True)
        self._thread.start()
        if not self._ready.wait(10) or not self.port:
            raise SystemExit("the counting JSON-RPC proxy did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.run_until_complete(self._session.close())
        self._loop.close()

    async def _start(self) -> None:
        self._session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = int(self._runner.addresses[0][1])

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        with contextlib.suppress(ValueError):
            message = json.loads(body)
            calls = message if isinstance(message, list) else [message]
            with self._lock:
                for call in calls:
                    if isinstance(call, dict):
                        self._counts[str(call.get("method"))] += 1
        headers = {"Content-Type": "application/json"}
        async with self._session.post(self.upstream, data=body, headers=headers) as answer:
            data = await answer.read()
            return web.Response(body=data, status=answer.status, content_type="application/json")

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self._counts)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


@dataclass
class Chain:
    node: AnvilNode
    dev: DevChain
    counter: RpcCounter

    def close(self) -> None:
        self.counter.close()
        self.node.close()


def start_chain(aggregator_sk: int, operator_sk: int) -> Chain:
    """anvil with the mocks, the AVS's two BN254 operator sets as the e2e test sets them up
    (the aggregator's key in set 0, the operator a member of set 1 with its key), and the
    counting proxy in front of it."""
    try:
        require_chain_tools()
    except ChainToolsMissing:
        run_script("bash", "scripts/install-chain-tools.sh")
    node = AnvilNode()
    try:
        dev = DevChain(node)
        dev.register_avs(AVS, AGGREGATOR_SET, [EXECUTOR_SET])
        for set_id, who, secret in (
            (AGGREGATOR_SET, AGGREGATOR, aggregator_sk),
            (EXECUTOR_SET, OPERATOR, operator_sk),
        ):
            dev.configure_operator_set(AVS, set_id, BN254_CURVE)
            if set_id == EXECUTOR_SET:
                dev.add_member(AVS, set_id, who)
            dev.set_bn254_key(
                AVS, set_id, who, bn254.public_key_g1(secret), bn254.public_key_g2(secret)
            )
        return Chain(node, dev, RpcCounter(node.url))
    except BaseException:
        node.close()
        raise


@dataclass
class Calls:
    """JSON-RPC requests the executor sent for `tasks` tasks, per method."""

    phase: str
    tasks: int
    methods: Counter[str]

    @property
    def eth_calls(self) -> int:
        return self.methods.get("eth_call", 0)

    @property
    def requests(self) -> int:
        return sum(self.methods.values())


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


def g2_submission(aggregator: G2Aggregator, run: str, index: int, block: int) -> pb.TaskSubmission:
    """A version-1 TaskSubmission for the executor's BN254 operator set at `block`."""
    return aggregator.submission(
        task_id=f"0x{keccak256(f'{run}-{index}'.encode()).hex()}",
        avs=AVS,
        executor=OPERATOR,
        operator_set_id=EXECUTOR_SET,
        block=block,
        payload=payload_of(run, index),
    )


def g2_requests(run: str, count: int, *, aggregator: G2Aggregator, block: int) -> list[Request]:
    """Signed G2 submissions as ghz's JSON (protobuf JSON names; a uint64 is a string)."""

    def one(i: int) -> Request:
        s = g2_submission(aggregator, run, i, block)
        return {
            "taskId": s.task_id,
            "aggregatorAddress": s.aggregator_address,
            "avsAddress": s.avs_address,
            "payload": b64(s.payload),
            "signature": b64(s.signature),
            "operatorSetId": s.operator_set_id,
            "referenceTimestamp": s.reference_timestamp,
            "executorAddress": s.executor_address,
            "taskBlockNumber": str(s.task_block_number),
            "version": s.version,
        }

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(one, range(count), chunksize=256))


def task_ids(requests: Sequence[Request]) -> set[str]:
    return {str(r.get("task_id") or r.get("taskId")) for r in requests}


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
    # executor.proto imports eigenlayer/hourglass/v1/common/auth.proto: proto/ is a root too.
    return [*command, "--import-paths", f"{proto.parent},{PROTO}", target]


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


def data_file(directory: Path, name: str, requests: Sequence[Request]) -> Path:
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
    requests: Sequence[Request] | None,
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


def health_probe(
    ghz: Path, target: str, directory: Path, name: str
) -> Callable[[float], subprocess.Popen[str]]:
    """What `measured` starts beside a timed run: HEALTH_RPS Checks a second for its length."""

    def start(seconds: float) -> subprocess.Popen[str]:
        return ghz_start(
            ghz, target, HEALTH, None, directory, name, concurrency=1, rps=HEALTH_RPS,
            length=f"-z {max(seconds - 1, 1):.1f}s",
        )  # fmt: skip

    return start


def ghz_run(
    ghz: Path,
    target: str,
    rpc: Rpc,
    requests: Sequence[Request],
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
    make: Callable[[str, int], Sequence[Request]],
    directory: Path,
    name: str,
    *,
    concurrency: int,
    seconds: float,
    beside: Callable[[float], subprocess.Popen[str]] | None = None,
) -> tuple[Load, Sequence[Request], Load | None, Load]:
    """A 2 s calibration run (discarded; it also warms up), then a run of exactly as many fresh
    requests as the calibration says fit in `seconds`: counted, so that no request is reused
    and none is cut off at the end. `beside` starts a second load for the timed run. Returns
    the timed run, its requests, the second load and the calibration."""
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
    if load.failed:
        say(f"{name}: the timed run's answers: {load.codes}")
    return load, requests, side_load, calibration


def combined(loads: Sequence[Load]) -> Load:
    """Runs of one load, as one: rps over their summed time; p50 and p99 are the runs'
    request-weighted means (close to the percentiles of the whole when the runs agree)."""
    if len(loads) == 1:
        return loads[0]
    count = sum(each.count for each in loads)
    elapsed = sum(each.count / each.rps for each in loads if each.rps)
    codes: Counter[str] = Counter()
    for each in loads:
        codes.update(each.codes)
    return Load(
        rps=count / elapsed if elapsed else 0.0,
        p50_ms=sum(each.p50_ms * each.count for each in loads) / max(count, 1),
        p99_ms=sum(each.p99_ms * each.count for each in loads) / max(count, 1),
        count=count,
        ok=sum(each.ok for each in loads),
        codes=dict(codes),
        data=sum(each.data for each in loads),
    )


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
            signed = bn254.verify_solidity(
                operator_pk, keccak256(result.output), result.result_signature
            )
            bad += result.output != square_of(payload) or not signed
    return SAMPLE, bad


def square_of(payload: bytes) -> bytes:
    x = int.from_bytes(payload, "big")
    return (x * x % 2**256).to_bytes(32, "big")


def g2_result_bad(request: pb.TaskSubmission, result: pb.TaskResult, operator_pk: bytes) -> bool:
    """Checked as the aggregator checks it: task, operator, output, the result signature over
    the BN254 certificate digest and the auth signature over keccak256 of the auth bytes."""
    digest = bn254_digest(result.task_id, result.output)
    return not (
        result.task_id == request.task_id
        and result.version == 1
        and result.operator_set_id == EXECUTOR_SET
        and result.operator_address.lower() == OPERATOR
        and result.output == square_of(request.payload)
        and bn254.verify_solidity(operator_pk, digest, result.result_signature)
        and bn254.verify(operator_pk, auth_digest(result, OPERATOR), result.auth_signature)
    )


async def check_sample_g2(
    target: str, aggregator: G2Aggregator, operator_pk: bytes, block: int
) -> tuple[int, int]:
    """Send SAMPLE G2 tasks at `block` and check each result; return (checked, bad)."""
    bad = 0
    run = secrets.token_hex(4) + "-g2s"
    async with ExecutorClient(target) as client:
        for i in range(SAMPLE):
            request = g2_submission(aggregator, run, i, block)
            result = await client.submit_task(request, timeout=30)
            bad += g2_result_bad(request, result, operator_pk)
    return SAMPLE, bad


async def g2_cold_calls(
    target: str, chain: Chain, aggregator: G2Aggregator, operator_pk: bytes, tag: str
) -> tuple[list[Calls], int, int, int]:
    """Sequential G2 tasks, counting the executor's JSON-RPC requests around each phase: the
    first task ever (at a new block), COLD_TASKS tasks each at a block nobody has read, and the
    warm-up task at the block the timed runs then use. Returns the phases, that block and
    (checked, bad) for the results."""
    counter, node = chain.counter, chain.node
    phases: list[Calls] = []
    checked = bad = 0
    async with ExecutorClient(target) as client:

        async def phase(label: str, name: str, blocks: Sequence[int]) -> None:
            nonlocal checked, bad
            before = counter.counts()
            for i, block in enumerate(blocks):
                request = g2_submission(aggregator, f"{tag}-{name}", i, block)
                result = await client.submit_task(request, timeout=30)
                bad += g2_result_bad(request, result, operator_pk)
                checked += 1
            phases.append(Calls(label, len(blocks), counter.counts() - before))

        await phase("first task ever (new block; curves not yet known)", "first", [node.mine()])
        last = node.mine(COLD_TASKS)
        cold = range(last - COLD_TASKS + 1, last + 1)
        await phase("cold block (each task at a block nobody has read)", "cold", cold)
        warm = node.mine()
        await phase("warm-up task at the fixed block (cold too)", "warmup", [warm])
    return phases, warm, checked, bad


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
    generations = [g.strip() for g in args.generation.split(",") if g.strip()]
    if not generations or any(g not in GENERATIONS for g in generations):
        raise SystemExit(f"--generation: a comma-separated subset of {','.join(GENERATIONS)}")
    if args.go_relay and "g1" not in generations:
        raise SystemExit("--go-relay: the relay takes G1 tasks; add g1 to --generation")
    ghz = prepare()
    relay_binary = run_script("bash", "scripts/build-go-relay.sh") if args.go_relay else None
    aggregator_sk, aggregator_pk = key_pair("ponos-aggregator")
    operator_sk, operator_pk = key_pair("ponos-executor")
    aggregator = G2Aggregator(AGGREGATOR, bn254_secret=aggregator_sk)
    seconds: float = args.seconds
    levels = [int(c) for c in args.concurrency.split(",")]
    tag = secrets.token_hex(3)
    results: dict[tuple[str, int], Load] = {}
    ids: dict[str, set[str]] = {g: set() for g in generations}
    timed_calls = {g: Calls(f"{g} timed runs", 0, Counter()) for g in generations}
    cold_phases: list[Calls] = []
    samples: dict[str, tuple[int, int]] = {}
    health: Load | None = None
    relay_health: Load | None = None
    alone = beside = flooded = None
    peak = 0.0
    chain = start_chain(aggregator_sk, operator_sk) if "g2" in generations else None
    try:
        with (
            tempfile.TemporaryDirectory(prefix="executor-bench-") as temp,
            contextlib.ExitStack() as stack,
        ):
            directory = Path(temp)
            l1_rpc = chain.counter.url if chain is not None else None
            executor = asyncio.run(start_executor(directory, aggregator_pk, args.src, l1_rpc))
            say(f"executor {executor.target}, performer {executor.performer_target}")
            say(f"executor from {args.src or 'this checkout'}; BN254 here: {bn254.backend()}")
            if chain is not None:
                say(f"anvil {chain.node.url}, counted through {chain.counter.url}")
            try:
                relay = None
                if relay_binary is not None:
                    relay = stack.enter_context(
                        go_relay(
                            relay_binary,
                            directory,
                            executor.performer_target,
                            aggregator_pk,
                            operator_sk,
                        )
                    )
                if relay is not None:
                    say(f"Go relay {relay.target}, in front of the same performer")
                makers: dict[str, Callable[[str, int], Sequence[Request]]] = {
                    "g1": functools.partial(executor_requests, aggregator_sk=aggregator_sk)
                }
                if chain is not None:
                    cold_phases, warm_block, checked, bad = asyncio.run(
                        g2_cold_calls(executor.target, chain, aggregator, operator_pk, tag)
                    )
                    samples["g2 (cold-phase tasks)"] = (checked, bad)
                    makers["g2"] = functools.partial(
                        g2_requests, aggregator=aggregator, block=warm_block
                    )
                for c in levels:
                    direct, _, _, cal = measured(
                        ghz, executor.performer_target, EXECUTE, direct_requests, directory,
                        f"{tag}-direct-{c}", concurrency=c, seconds=seconds,
                    )  # fmt: skip
                    results[("direct", c)] = direct
                    # A-B-B-A: each lane (a generation, or the Go relay) runs twice, half the
                    # length each time, in mirrored order, so that a drift in the machine's
                    # speed (it is shared) weighs on all alike.
                    lanes = [*generations, *([RELAY] if relay is not None else [])]
                    order = [*lanes, *reversed(lanes)] if len(lanes) > 1 else lanes
                    halves: dict[str, list[Load]] = {lane: [] for lane in lanes}
                    for n, lane in enumerate(order):
                        length = seconds * len(lanes) / len(order)
                        if lane == RELAY:
                            assert relay is not None
                            probed = c == max(levels) and not halves[lane]
                            load, _, relay_health_load, _ = measured(
                                ghz, relay.target, SUBMIT, makers["g1"], directory,
                                f"{tag}-relay-{c}-{n}", concurrency=c, seconds=length,
                                beside=health_probe(ghz, relay.target, directory, "relay-health")
                                if probed else None,
                            )  # fmt: skip
                            relay_health = relay_health_load or relay_health
                            halves[lane].append(load)
                            say(f"c={c}: direct {direct.rps:.0f} rps, Go relay {load.rps:.0f} rps")
                            continue
                        gen = lane
                        probed = c == max(levels) and n == 0
                        before = chain.counter.counts() if chain is not None else Counter()
                        with peak_rss(executor.process.pid) as rss:
                            load, requests, health_load, cal = measured(
                                ghz, executor.target, SUBMIT, makers[gen], directory,
                                f"{tag}-{gen}-{c}-{n}", concurrency=c, seconds=length,
                                beside=health_probe(ghz, executor.target, directory, "health")
                                if probed else None,
                            )  # fmt: skip
                        if chain is not None:
                            spent = timed_calls[gen]
                            spent.methods.update(chain.counter.counts() - before)
                            spent.tasks += load.count + cal.count
                        health = health_load or health
                        peak = max(peak, rss[0])
                        halves[gen].append(load)
                        if c == 1:
                            ids[gen] |= task_ids(requests)
                        say(f"c={c}: direct {direct.rps:.0f} rps, {gen} {load.rps:.0f} rps")
                    for gen, parts in halves.items():
                        results[(gen, c)] = combined(parts)
                if "g1" in generations:
                    alone, beside, flooded = flood_runs(
                        ghz, executor, makers["g1"], directory, tag, aggregator_sk, seconds
                    )
                    samples["g1"] = asyncio.run(
                        check_sample(executor.target, aggregator_sk, operator_pk)
                    )
                    if relay is not None:
                        samples["Go relay"] = asyncio.run(
                            check_sample(relay.target, aggregator_sk, operator_pk)
                        )
                if chain is not None:
                    samples["g2"] = asyncio.run(
                        check_sample_g2(executor.target, aggregator, operator_pk, warm_block)
                    )
                stages = {g: breakdown(executor.log_path, ids[g]) for g in generations}
            finally:
                code, left = stop_executor(executor)
    finally:
        if chain is not None:
            chain.close()

    machine = platform.processor() or platform.machine()
    print(f"\nBN254 backend: {bn254.backend()}; {machine}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {seconds:g} s per run, "
          f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, "
          f"generations {','.join(generations)}\n")  # fmt: skip
    failed_rows: list[Sequence[object]] = []
    if "g1" in generations:
        rows: list[list[object]] = []
        for c in levels:
            direct, load = results[("direct", c)], results[("g1", c)]
            ratio = load.rps / direct.rps if direct.rps else 0.0
            target = TARGET_RATIOS.get(c)
            rows.append(["direct", c, f"{direct.rps:.0f}", f"{direct.p50_ms:.2f}",
                         f"{direct.p99_ms:.2f}", "-", "-", direct.failed, "-", "-"])  # fmt: skip
            rows.append(["executor", c, f"{load.rps:.0f}", f"{load.p50_ms:.2f}",
                         f"{load.p99_ms:.2f}", f"{ratio:.2f}", GO_RATIOS.get(c, "-"), load.failed,
                         target or "-", verdict(ratio >= target) if target else "-"])  # fmt: skip
        print("G1 (first generation), issue #8:")
        print(table(["target", "c", "rps", "p50 ms", "p99 ms", "exec/direct", "Go", "failed",
                     "target", "result"], rows))  # fmt: skip
        print()
        failed_rows += [r for r in rows if r[-1] == "FAIL"]
    if "g1" in generations and args.go_relay:
        rows = []
        for c in levels:
            direct, load, relayed = results[("direct", c)], results[("g1", c)], results[(RELAY, c)]
            rows.append([c, f"{direct.rps:.0f}", f"{load.rps:.0f}", f"{relayed.rps:.0f}",
                         f"{load.rps / direct.rps:.2f}", f"{relayed.rps / direct.rps:.2f}",
                         f"{load.rps / relayed.rps:.2f}", f"{load.p50_ms:.2f}",
                         f"{relayed.p50_ms:.2f}", relayed.failed])  # fmt: skip
        print("G1 beside the Go relay (bench/go_relay: grpc-go, one gnark pairing per task), "
              "same requests, same performer:")  # fmt: skip
        print(table(["c", "direct rps", "executor rps", "relay rps", "executor/direct",
                     "relay/direct", "executor/relay", "executor p50 ms", "relay p50 ms",
                     "relay failed"], rows))  # fmt: skip
        print()
    if "g2" in generations:
        rows = []
        for c in levels:
            for gen in ("direct", *generations):
                load = results[(gen, c)]
                rows.append([gen, c, f"{load.rps:.0f}", f"{load.p50_ms:.2f}",
                             f"{load.p99_ms:.2f}", load.failed])  # fmt: skip
        print("G2 (second generation) beside G1, one executor process, issue #10:")
        print(table(["generation", "c", "rps", "p50 ms", "p99 ms", "errors"], rows))
        print()
    if generations == list(GENERATIONS) or set(generations) == set(GENERATIONS):
        rows = []
        for c in levels:
            g1, g2 = results[("g1", c)], results[("g2", c)]
            ratio = g2.rps / g1.rps if g1.rps else 0.0
            target = TARGET_G2_OVER_G1.get(c)
            rows.append([c, f"{g1.rps:.0f}", f"{g2.rps:.0f}", f"{ratio:.2f}",
                         f"{g1.p50_ms:.2f}", f"{g2.p50_ms:.2f}", target or "-",
                         verdict(ratio >= target) if target else "-"])  # fmt: skip
        print(table(["c", "g1 rps", "g2 rps", "g2/g1", "g1 p50 ms", "g2 p50 ms", "target",
                     "result"], rows))  # fmt: skip
        print()
        failed_rows += [r for r in rows if r[-1] == "FAIL"]
    if chain is not None:
        rows = []
        for calls in [*cold_phases, *(timed_calls[g] for g in generations)]:
            label = calls.phase
            if calls in timed_calls.values():
                label += " (warm: fixed block)" if calls is timed_calls["g2"] else ""
            per = calls.eth_calls / calls.tasks if calls.tasks else math.nan
            other = calls.methods - Counter({"eth_call": calls.eth_calls})
            others = ", ".join(f"{k} {v}" for k, v in sorted(other.items())) or "-"
            rows.append([label, calls.tasks, calls.eth_calls, f"{per:.2f}", others])
        print("JSON-RPC requests the executor sent to anvil (counted by a proxy in front of it):")
        print(table(["phase", "tasks", "eth_calls", "eth_calls / task", "other requests"], rows))
        print()
    loads = list(results.values())  # calibrations are cut off at their end by design
    reuse = [f"{k[0]} c={k[1]}" for k, v in results.items() if v.count > v.data]
    checks: list[list[object]] = []
    if "g1" in generations:
        c1 = results.get(("g1", 1)), results.get(("direct", 1))
        over = c1[0].p50_ms - c1[1].p50_ms if c1[0] and c1[1] else math.nan
        checks.append(["p50 at c=1 above direct (g1), ms", f"{over:.2f}",
                       f"<= {TARGET_C1_P50_OVER_DIRECT_MS}",
                       verdict(over <= TARGET_C1_P50_OVER_DIRECT_MS)])  # fmt: skip
    checks += [
        ["executor peak RSS, MB", f"{peak:.1f}", f"<= {TARGET_RSS_MB:g}",
         verdict(peak <= TARGET_RSS_MB)],
        ["health Check p99 while saturated, ms", f"{health.p99_ms:.2f}" if health else "-",
         f"<= {TARGET_HEALTH_P99_MS:g}",
         verdict(health is not None and health.p99_ms <= TARGET_HEALTH_P99_MS)],
        ["health Check p50 while saturated, ms", f"{health.p50_ms:.2f}" if health else "-",
         "-", "-"],
        *([["Go relay: health Check p50 / p99 beside its own load, ms",
            f"{relay_health.p50_ms:.2f} / {relay_health.p99_ms:.2f}", "-", "-"]]
          if relay_health else []),
        ["failed tasks (all timed runs)", sum(v.failed for v in loads), "0",
         verdict(all(v.failed == 0 for v in loads))],
    ]  # fmt: skip
    if alone is not None and beside is not None and flooded is not None:
        kept = beside.rps / alone.rps if alone.rps else 0.0
        checks += [
            ["valid rps at c=4, alone", f"{alone.rps:.0f}", "-", "-"],
            ["valid rps at c=4, beside a c=16 bad flood", f"{beside.rps:.0f}", "-", "-"],
            ["kept under the flood", f"{kept:.2f}", f">= {TARGET_FLOOD_KEEP}",
             verdict(kept >= TARGET_FLOOD_KEEP)],
            ["flood answers", ", ".join(f"{k} {v}" for k, v in flooded.codes.items()),
             "Unauthenticated (and at most 16 cut off at its end)",
             verdict(flooded.codes.get("OK", 0) == 0 and sum(v for k, v in
                     flooded.codes.items() if k != "Unauthenticated") <= FLOOD_BAD_CONCURRENCY)],
            ["valid failed beside the flood", beside.failed, "0", verdict(beside.failed == 0)],
        ]  # fmt: skip
    for name, (checked, bad) in samples.items():
        checks.append([f"sampled results checked / bad, {name}", f"{checked} / {bad}", "0 bad",
                       verdict(bad == 0)])  # fmt: skip
    checks += [
        ["requests reused (array too short)", ", ".join(reuse) or "none", "none",
         verdict(not reuse)],
        ["executor exit code / containers left", f"{code} / {left}", "0 / 0",
         verdict(code == 0 and left == 0)],
    ]  # fmt: skip
    print(table(["measurement", "value", "target", "result"], checks))
    print()
    if 1 in levels:
        direct_p50 = results[("direct", 1)].p50_ms
        parts: list[list[object]] = []
        labels = [
            ("executor p50 (client side)", None),
            ("  receive + parse + reply (p50 minus the core's median)", "wire"),
            ("  core total", "durationMs"),
            ("    verify (aggregator signature; G2: with its chain reads)", "verifyMs"),
            ("    performer call", "performerMs"),
            ("    sign (result; G2: result and auth signatures)", "signMs"),
        ]
        for label, key in labels:
            row: list[object] = [label]
            for gen in generations:
                p50 = results[(gen, 1)].p50_ms
                value = p50 if key is None else (
                    p50 - stages[gen]["durationMs"] if key == "wire" else stages[gen][key]
                )  # fmt: skip
                row.append(f"{value:.3f}")
            parts.append(row)
        parts.append(
            ["direct p50 (same performer, ghz)", *[f"{direct_p50:.3f}"] * len(generations)]
        )
        print(table(["c=1 per-task cost, ms", *generations], parts))
    failed = [row for row in checks if row[-1] == "FAIL"] + failed_rows
    return 1 if failed else 0


def flood_runs(
    ghz: Path,
    executor: Executor,
    signed: Callable[[str, int], Sequence[Request]],
    directory: Path,
    tag: str,
    aggregator_sk: int,
    seconds: float,
) -> tuple[Load, Load, Load]:
    """Valid G1 traffic at c=4 alone, then beside a c=16 flood of bad signatures."""
    say("flood: valid c=4 alone, then beside a c=16 bad-signature flood")
    alone, _, _, _ = measured(
        ghz, executor.target, SUBMIT, signed, directory, f"{tag}-alone",
        concurrency=FLOOD_VALID_CONCURRENCY, seconds=seconds,
    )  # fmt: skip
    flood_requests = executor_requests(f"{tag}-bad", 6000, aggregator_sk=aggregator_sk, bad=True)
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
    return alone, beside, ghz_finish(flood, len(flood_requests))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each timed run")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated levels")
    parser.add_argument(
        "--generation",
        default="g1,g2",
        help="g1, g2 or both (the default): g2 starts anvil with the EigenLayer mocks and runs "
        "version-1 tasks through the same executor process",
    )
    parser.add_argument(
        "--go-relay",
        action="store_true",
        help="also run the same G1 requests through bench/go_relay, a Go stand-in for an "
        "executor (grpc-go, one gnark-crypto pairing per task, the result signed), in front of "
        "the same performer, in A-B-B-A order with the executor",
    )
    parser.add_argument(
        "--src",
        type=Path,
        help="run the executor from this src/ folder instead (e.g. a worktree of an older "
        "commit, to compare in one run); the BN254 figures then are that tree's",
    )
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
