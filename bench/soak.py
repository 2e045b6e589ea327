"""Soak benchmark: 100,000 signed tasks across two AVSs, with a blue-green deployment and a
performer kill in the middle; nothing may be lost and the executor's memory must stay flat.

Run from the repository root (needs the Docker engine, `bash scripts/setup-env.sh`, Debian's
docker-registry and the native BN254 library of `make setup` for realistic figures):

    .venv/bin/python bench/soak.py                    # about 5 minutes on 2 cores
    .venv/bin/python bench/soak.py --tasks 10000      # a short run (fewer may end before recovery)
    .venv/bin/python bench/soak.py --json             # the figures as one JSON document

What it does, all on 127.0.0.1:

1. Starts the test suite's loopback registry (`tests.registry_support.running_registry`: the
   example performer pushed as v1 and v2) and `python -m executor_app run --config <file>` as a
   separate process, as an operator runs it, with a generated config: two `avsPerformers`
   entries, both `hourglass-example-performer:latest`, the operator's BN254 keystore from
   examples/keys, and the ponos aggregator as the only (simulated) aggregator peer. Its stderr
   (JSON log lines) is kept in the run's directory, which is printed and not deleted.
2. Load processes (`--load-processes`, default 1) sign every task before the start (BN254 over
   the payload with the ponos aggregator key, as a first-generation aggregator signs) and then
   keep `--concurrency` tasks in flight in all over grpc.aio, task `i` to AVS `i % 2`, until
   `--tasks` tasks have been answered (closed loop). Every answer is checked: the task id and
   the payload's square.
3. The first WARMUP_FRACTION of the tasks is the warm-up; then the executor's VmRSS
   (/proc/<pid>/status) is read as "start". At DEPLOY_AT of the tasks, DeployArtifact of the
   registry's v2 image (by digest) for the first AVS; once it has returned and KILL_AT of the
   tasks are done, `docker kill` of the second AVS's performer container (by id), and
   ListPerformers is polled every RECOVERY_POLL_S until that AVS has a healthy performer in
   another container. Once it has and MIDDLE_AT of the tasks are done, VmRSS "middle"; when the
   last task is answered, VmRSS "end". VmRSS is also sampled every second for the peak.
4. The kill window runs from the kill until the performer was reported healthy again, plus
   KILL_MARGIN_S. A failure is inside it when the task was answered after the kill and sent
   before the window closed. The only failures allowed are UNAVAILABLE answers to tasks of the
   killed AVS inside the window.
5. Stops the executor with SIGINT (it removes its containers), reports the containers it left,
   stops the registry and removes its images; a Ctrl-C or SIGTERM does the same.

Targets: no task lost (every task answered) and no failure other than the allowed ones;
VmRSS growth from middle to end below 10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import platform
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO, REPO / "bench"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))  # for `tests.registry_support` and `_soak_support`

import _soak_support as load  # noqa: E402
import grpc  # noqa: E402
import pytest  # noqa: E402

from executor_adapters.grpc.executor_client import ExecutorClient  # noqa: E402
from executor_adapters.signing import bn254, keccak256  # noqa: E402
from hourglass_proto.eigenlayer.hourglass import v1 as pb  # noqa: E402
from tests.docker_support import (  # noqa: E402
    EXAMPLE_IMAGE,
    INSTANCE_LABEL,
    containers_with_label,
    free_port,
    networks_with_label,
)
from tests.registry_support import LocalRegistry, running_registry  # noqa: E402

WARMUP_FRACTION = 0.10
DEPLOY_AT = 0.40
KILL_AT = 0.45
MIDDLE_AT = 0.50
KILL_MARGIN_S = 1.0
"""Added to the measured kill window: a task sent just before recovery was reported may still
have been refused by the executor's previous state."""
RECOVERY_POLL_S = 0.05
RECOVERY_TIMEOUT_S = 120.0
DEPLOY_TIMEOUT_S = 120.0
READY_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 90.0
TARGET_RSS_GROWTH_PCT = 10.0
WORKERS_PER_AVS = 64
"""workerCount and taskQueueSize of each AVS: all 64 tasks in flight may be for one AVS."""
IMAGE_REPOSITORY, IMAGE_TAG = EXAMPLE_IMAGE.split(":")
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE.value[0]
CODE_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
CODE_NAMES |= {load.WRONG_OUTPUT: "WRONG_OUTPUT", load.NOT_RUN: "NOT_ANSWERED"}


def say(text: str) -> None:
    print(f"soak | {text}", file=sys.stderr, flush=True)


def rss_mb(pid: int) -> float:
    """VmRSS of the process, in MB (kB / 1024, as bench/throughput.py reports it)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process from /proc/<pid>/stat."""
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return float("nan")


def write_config(directory: Path, port: int, aggregator_pk: bytes) -> Path:
    keystore = REPO / "examples" / "keys" / "executor-bn254.json"
    performers = [
        {
            "avsAddress": avs,
            "processType": "server",
            "image": {"repository": IMAGE_REPOSITORY, "tag": IMAGE_TAG},
            "signingCurve": "bn254",
            "workerCount": WORKERS_PER_AVS,
            "taskQueueSize": WORKERS_PER_AVS,
            "health": {"checkInterval": "5s", "timeout": "2s"},
        }
        for avs in load.AVSS
    ]
    config: dict[str, Any] = {
        "grpcPort": port,
        "operator": {
            "address": load.OPERATOR,
            "signingKeys": {"bls": {"keystoreFile": str(keystore), "password": ""}},
        },
        "avsPerformers": performers,
        "simulation": {
            "simulatePeering": {
                "enabled": True,
                "aggregatorPeers": [
                    {
                        "networkAddress": "127.0.0.1:9000",
                        "operatorAddress": load.AGGREGATOR,
                        "publicKey": aggregator_pk.hex(),
                        "operatorSetId": 0,
                    }
                ],
            }
        },
        "logging": {"level": "info", "format": "json"},
    }
    path = directory / "executor.json"
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


# --- what the run holds, released even on failure or Ctrl-C -------------------------------------


@dataclass
class Resources:
    log_path: Path
    executor: subprocess.Popen[bytes] | None = None
    loaders: list[multiprocessing.process.BaseProcess] = field(default_factory=list)
    exit_code: int | None = None
    left: list[str] = field(default_factory=list)
    """Containers and networks of our executor instance that were still there after it stopped
    (then removed by id)."""

    def instance_id(self) -> str:
        with contextlib.suppress(OSError):
            for line in self.log_path.read_text(errors="replace").splitlines()[:200]:
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if record.get("msg") == "executor starting":
                        return str(record.get("executorInstance", ""))
        return ""

    def stop_loaders(self) -> None:
        for process in self.loaders:
            if process.is_alive():
                process.terminate()  # by pid
                process.join(5)
                if process.is_alive():
                    process.kill()
                    process.join()

    def release(self) -> None:
        self.stop_loaders()
        if self.executor is not None and self.executor.poll() is None:
            say(f"stopping the executor (pid {self.executor.pid}) with SIGINT")
            self.executor.send_signal(signal.SIGINT)
            try:
                self.executor.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                say("the executor did not stop in time: SIGKILL")
                self.executor.kill()
                self.executor.wait()
        if self.executor is not None:
            self.exit_code = self.executor.returncode
        instance = self.instance_id()
        if instance:
            label = f"{INSTANCE_LABEL}={instance}"
            for container in containers_with_label(label):
                self.left.append(f"container {container[:12]}")
                subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
            for network in networks_with_label(label):
                self.left.append(f"network {network[:12]}")
                subprocess.run(
                    ["docker", "network", "rm", network], capture_output=True, check=False
                )


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Deployment:
    started: float = 0.0
    finished: float = 0.0
    success: bool = False
    message: str = ""


@dataclass
class Kill:
    victim: str = ""
    killed_at: float = 0.0
    killed_wall: float = 0.0
    kill_returned: float = 0.0
    reported_down: float | None = None
    """First ListPerformers answer in which the AVS had no healthy performer."""
    healthy_again: float | None = None
    replacement: str = ""
    error: str = ""


@dataclass
class Run:
    tasks: int
    concurrency: int
    processes: int
    results: list[load.LoadResult] = field(default_factory=list)
    load_started: float = 0.0
    load_started_wall: float = 0.0
    load_finished: float = 0.0
    rss: dict[str, float] = field(default_factory=dict)
    rss_at: dict[str, int] = field(default_factory=dict)
    """Tasks answered when each named RSS reading was taken."""
    rss_samples: list[tuple[float, float]] = field(default_factory=list)
    executor_cpu: float = 0.0
    deployment: Deployment | None = None
    kill: Kill | None = None
    executor_died_at: float | None = None
    sign_seconds: list[float] = field(default_factory=list)
    log_path: Path = Path()
    workdir: Path = Path()


async def wait_in_service(
    client: ExecutorClient, process: subprocess.Popen[bytes], log_path: Path
) -> dict[str, str]:
    """Wait until every AVS has a healthy performer; return AVS -> container id."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the executor exited with {process.returncode}; see {log_path}")
        with contextlib.suppress(grpc.aio.AioRpcError):
            found = healthy_containers((await client.list_performers(timeout=2)).performers)
            if set(found) == set(load.AVSS):
                return found
        await asyncio.sleep(0.3)
    raise RuntimeError(f"the performers were not in service within {READY_TIMEOUT_S:g} s")


def healthy_containers(performers: Sequence[pb.Performer]) -> dict[str, str]:
    return {
        p.avs_address.lower(): p.container_id
        for p in performers
        if p.application_healthy and p.container_id
    }


async def deploy_v2(client: ExecutorClient, registry: LocalRegistry, record: Deployment) -> None:
    request = pb.DeployArtifactRequest(
        avs_address=load.AVS_DEPLOYED,
        registry_url=registry.v2.repository,
        digest=registry.v2.digest,
    )
    record.started = time.monotonic()
    say(f"DeployArtifact {registry.v2.reference} for {load.AVS_DEPLOYED}")
    try:
        reply = await client.deploy_artifact(request, timeout=DEPLOY_TIMEOUT_S)
    except grpc.aio.AioRpcError as exc:
        record.message = f"{exc.code().name}: {exc.details()}"
    else:
        record.success = reply.success
        record.message = reply.message or reply.deployment_id
    record.finished = time.monotonic()
    say(
        f"deployment: {'promoted' if record.success else 'FAILED'} ({record.message}) "
        f"in {record.finished - record.started:.2f} s"
    )


async def kill_and_watch(client: ExecutorClient, record: Kill) -> None:
    """`docker kill` the killed AVS's performer by id; poll until a healthy one replaced it."""
    try:
        found = healthy_containers((await client.list_performers(timeout=5)).performers)
        record.victim = found.get(load.AVS_KILLED, "")
        if not record.victim:
            record.error = "the AVS had no healthy performer to kill"
            return
        record.killed_wall = time.time()
        record.killed_at = time.monotonic()
        killer = await asyncio.create_subprocess_exec(
            "docker",
            "kill",
            record.victim,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await killer.communicate()
        record.kill_returned = time.monotonic()
        if killer.returncode != 0:
            record.error = f"docker kill failed: {err.decode(errors='replace').strip()}"
            return
        say(f"killed performer container {record.victim[:12]} of {load.AVS_KILLED}")
        while time.monotonic() - record.killed_at < RECOVERY_TIMEOUT_S:
            try:
                answer = await client.list_performers(timeout=2)
            except grpc.aio.AioRpcError:
                await asyncio.sleep(RECOVERY_POLL_S)
                continue
            now = time.monotonic()
            current = healthy_containers(answer.performers).get(load.AVS_KILLED, "")
            if record.reported_down is None and current != record.victim:
                record.reported_down = now
            if current and current != record.victim:
                record.healthy_again = now
                record.replacement = current
                say(
                    f"performer healthy again in {current[:12]}, "
                    f"{now - record.killed_at:.2f} s after the kill"
                )
                return
            await asyncio.sleep(RECOVERY_POLL_S)
        record.error = f"no healthy performer within {RECOVERY_TIMEOUT_S:g} s of the kill"
    except grpc.aio.AioRpcError as exc:
        record.error = f"ListPerformers: {exc.code().name}: {exc.details()}"


async def orchestrate(
    res: Resources, run: Run, registry: LocalRegistry, aggregator_pk: bytes, aggregator_sk: int
) -> None:
    port = free_port()
    config = write_config(run.workdir, port, aggregator_pk)
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
    say(f"starting: {' '.join(command)}")
    with res.log_path.open("wb") as stderr:
        # Its own session: a Ctrl-C at the terminal reaches this process only, which then
        # stops the executor with one SIGINT (a second one would skip its clean-up).
        res.executor = subprocess.Popen(  # noqa: ASYNC220 - starts it and goes on
            command, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True
        )
    pid = res.executor.pid
    target = f"127.0.0.1:{port}"
    async with ExecutorClient(target) as client:
        containers = await wait_in_service(client, res.executor, res.log_path)
        say(
            f"executor pid {pid} on {target}, performers "
            + ", ".join(f"{a[:10]}… {c[:12]}" for a, c in containers.items())
        )
        run.rss["ready"] = rss_mb(pid)
        ctx = multiprocessing.get_context("spawn")
        go = ctx.Event()
        progress = ctx.Array("q", run.processes, lock=False)
        receivers: list[multiprocessing.connection.Connection] = []
        tag = secrets.token_hex(4)
        for slot in range(run.processes):
            share = run.concurrency // run.processes + (slot < run.concurrency % run.processes)
            spec = load.LoadSpec(target, tag, run.tasks, run.processes, slot, share, aggregator_sk)
            receiver, sender = ctx.Pipe(duplex=False)
            process = ctx.Process(
                target=load.load_process, args=(spec, sender, go, progress), daemon=True
            )
            process.start()
            sender.close()  # the child holds the writing end: its exit ends a recv here
            res.loaders.append(process)
            receivers.append(receiver)
        say(f"{run.processes} load process(es) signing {run.tasks} tasks")
        for receiver in receivers:
            kind, value = await asyncio.to_thread(receiver.recv)
            if kind != "ready":
                raise RuntimeError(f"a load process failed:\n{value}")
            run.sign_seconds.append(value)
        say(f"signed in {max(run.sign_seconds):.1f} s; load starts")

        async def sample_rss() -> None:
            while True:
                run.rss_samples.append((time.monotonic(), rss_mb(pid)))
                await asyncio.sleep(1.0)

        sampler = asyncio.create_task(sample_rss())
        collect = asyncio.ensure_future(
            asyncio.gather(*(asyncio.to_thread(r.recv) for r in receivers))
        )
        # Retrieved here too, so that a cancelled run does not log "never retrieved".
        collect.add_done_callback(lambda f: None if f.cancelled() else f.exception())
        cpu_before = cpu_seconds(pid)
        run.load_started = time.monotonic()
        run.load_started_wall = time.time()
        go.set()
        deploying: asyncio.Task[None] | None = None
        killing: asyncio.Task[None] | None = None
        next_report = run.load_started + 10
        try:
            while not collect.done():
                answered = sum(progress)
                fraction = answered / run.tasks
                if "start" not in run.rss and fraction >= WARMUP_FRACTION:
                    run.rss["start"], run.rss_at["start"] = rss_mb(pid), answered
                    say(f"warm-up done ({answered} tasks): VmRSS {run.rss['start']:.1f} MB")
                if deploying is None and fraction >= DEPLOY_AT:
                    run.deployment = Deployment()
                    deploying = asyncio.create_task(deploy_v2(client, registry, run.deployment))
                if killing is None and fraction >= KILL_AT and deploying and deploying.done():
                    run.kill = Kill()
                    killing = asyncio.create_task(kill_and_watch(client, run.kill))
                if (
                    "middle" not in run.rss
                    and fraction >= MIDDLE_AT
                    and killing is not None
                    and killing.done()
                ):
                    run.rss["middle"], run.rss_at["middle"] = rss_mb(pid), answered
                    say(f"middle ({answered} tasks): VmRSS {run.rss['middle']:.1f} MB")
                if run.executor_died_at is None and res.executor.poll() is not None:
                    run.executor_died_at = time.monotonic()
                    say(f"the executor exited with {res.executor.returncode} during the load")
                now = time.monotonic()
                if now >= next_report:
                    rate = answered / (now - run.load_started)
                    say(
                        f"{answered}/{run.tasks} answered, {rate:.0f}/s, VmRSS {rss_mb(pid):.1f} MB"
                    )
                    next_report = now + 10
                await asyncio.sleep(0.05)
            run.load_finished = time.monotonic()
            run.rss["end"], run.rss_at["end"] = rss_mb(pid), sum(progress)
            run.executor_cpu = cpu_seconds(pid) - cpu_before
            say(
                f"load done in {run.load_finished - run.load_started:.1f} s: "
                f"VmRSS {run.rss['end']:.1f} MB"
            )
            for kind, value in collect.result():
                if kind != "done":
                    raise RuntimeError(f"a load process failed:\n{value}")
                run.results.append(value)
            for task in (deploying, killing):
                if task is not None:
                    await asyncio.wait_for(task, RECOVERY_TIMEOUT_S)
        finally:
            sampler.cancel()
            for task in (deploying, killing):
                if task is not None and not task.done():
                    task.cancel()
            if not collect.done():
                # Threads wait in recv; stopping the load processes ends those waits, so that
                # asyncio.run can join its threads.
                res.stop_loaders()
                collect.cancel()


# --- the report -----------------------------------------------------------------------------------


def percentile(ordered: Sequence[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for n, row in enumerate(cells):
        padded = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(padded) + " |")
        if n == 0:
            lines.append("| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def log_findings(log_path: Path, load_wall: float, kill_wall: float) -> dict[str, Any]:
    """Lines by level, warnings and errors grouped by message, and the deployment and performer
    events, timed from the load's start and from the kill (on the wall clock the log uses)."""
    levels: Counter[str] = Counter()
    notable: dict[str, dict[str, Any]] = {}
    events: list[dict[str, Any]] = []
    watched = {
        "performer unhealthy",
        "performer recreated",
        "recreating the performer failed",
        "performer failed; it stays down until a deployment",
        "deployment started",
        "performer staged",
        "performer promoted",
        "performer removed",
        "deployment failed",
        "rolled back to the previous image",
        "drain timed out; removed with tasks still running",
    }
    with contextlib.suppress(OSError), log_path.open(errors="replace") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                levels["(not JSON)"] += 1
                notable.setdefault(
                    "(not JSON) " + line.strip()[:120], {"count": 0, "example": line.strip()[:400]}
                )["count"] += 1
                continue
            level = str(record.get("level", "?"))
            levels[level] += 1
            msg = str(record.get("msg", ""))
            if level not in ("info", "debug"):
                entry = notable.setdefault(
                    msg, {"count": 0, "level": level, "example": line.strip()[:600]}
                )
                entry["count"] += 1
            if msg in watched:
                event: dict[str, Any] = {
                    "msg": msg,
                    "ts": record.get("ts"),
                    "avs": record.get("avsAddress", ""),
                }
                with contextlib.suppress(ValueError, TypeError):
                    ts = datetime.datetime.fromisoformat(str(record["ts"]).replace("Z", "+00:00"))
                    event["load_s"] = round(ts.timestamp() - load_wall, 3)
                    if kill_wall:
                        event["after_kill_s"] = round(ts.timestamp() - kill_wall, 3)
                events.append(event)
    return {"levels": dict(levels), "warnings_and_errors": notable, "performer_events": events}


def analyse(
    run: Run, registry: LocalRegistry, operator_pk: bytes, res: Resources
) -> dict[str, Any]:
    sent: list[float] = []
    done: list[float] = []
    codes: list[int] = []
    tags: list[int] = []
    indexes: list[int] = []
    details: dict[int, str] = {}
    samples: list[tuple[bytes, bytes, bytes]] = []
    for result in run.results:
        indexes += result.indexes
        sent += result.sent
        done += result.done
        codes += result.codes
        tags += result.tags
        details |= result.details
        samples += result.samples
    answered = sum(1 for c in codes if c != load.NOT_RUN)
    lost = run.tasks - answered
    ok = [k for k, c in enumerate(codes) if c == load.OK]
    latencies = sorted((done[k] - sent[k]) * 1000 for k in ok)
    first_sent = min((s for s in sent if s), default=run.load_started)
    last_done = max(done, default=run.load_finished)
    duration = max(last_done - first_sent, 1e-9)
    kill = run.kill
    window: tuple[float, float] | None = None
    if kill is not None and kill.killed_at and kill.healthy_again is not None:
        window = (kill.killed_at, kill.healthy_again + KILL_MARGIN_S)

    def in_window(k: int) -> bool:
        return window is not None and done[k] >= window[0] and sent[k] <= window[1]

    failures = [k for k, c in enumerate(codes) if c not in (load.OK, load.NOT_RUN)]
    allowed = [
        k
        for k in failures
        if codes[k] == UNAVAILABLE and in_window(k) and load.avs_of(indexes[k]) == load.AVS_KILLED
    ]
    allowed_set = set(allowed)
    unexpected = [k for k in failures if k not in allowed_set]
    by_code: dict[str, dict[str, int]] = {}
    for k in failures:
        row = by_code.setdefault(
            CODE_NAMES.get(codes[k], str(codes[k])), {"total": 0, "in_kill_window": 0, "outside": 0}
        )
        row["total"] += 1
        row["in_kill_window" if in_window(k) else "outside"] += 1
    zero = run.load_started

    def failure_row(k: int) -> dict[str, Any]:
        row = {
            "task": indexes[k],
            "avs": load.avs_of(indexes[k]),
            "code": CODE_NAMES.get(codes[k], str(codes[k])),
            "sent_s": round(sent[k] - zero, 3),
            "answered_s": round(done[k] - zero, 3),
            "details": details.get(indexes[k], ""),
        }
        if kill is not None and kill.killed_at:
            row["answered_after_kill_s"] = round(done[k] - kill.killed_at, 3)
        return row

    killed_failures = [k for k in failures if load.avs_of(indexes[k]) == load.AVS_KILLED]
    # The deployment: which image answered the deployed AVS's tasks.
    deployed = [k for k in ok if load.avs_of(indexes[k]) == load.AVS_DEPLOYED]
    v2 = load.TAGS.index("v2")
    old_after = 0
    deployment: dict[str, Any] | None = None
    if run.deployment is not None:
        d = run.deployment
        old_after = (
            sum(1 for k in deployed if sent[k] > d.finished and tags[k] != v2) if d.finished else 0
        )
        deployment = {
            "success": d.success,
            "message": d.message,
            "started_s": round(d.started - zero, 3),
            "round_trip_s": round(d.finished - d.started, 3) if d.finished else None,
            "answered_by_v2": sum(1 for k in deployed if tags[k] == v2),
            "answered_by_old_image": sum(1 for k in deployed if tags[k] != v2),
            "sent_after_promotion_answered_by_old_image": old_after,
        }
    kill_report: dict[str, Any] | None = None
    if kill is not None:
        kill_report = {
            "victim": kill.victim[:12],
            "replacement": kill.replacement[:12],
            "error": kill.error,
            "killed_s": round(kill.killed_at - zero, 3) if kill.killed_at else None,
            "docker_kill_s": round(kill.kill_returned - kill.killed_at, 3)
            if kill.killed_at
            else None,
            "reported_down_after_s": round(kill.reported_down - kill.killed_at, 3)
            if kill.reported_down
            else None,
            "healthy_again_after_s": round(kill.healthy_again - kill.killed_at, 3)
            if kill.healthy_again
            else None,
            "margin_s": KILL_MARGIN_S,
            "window_s": round(window[1] - window[0], 3) if window else None,
            "failures_of_killed_avs": len(killed_failures),
            "first_failure_after_kill_s": round(
                min(done[k] for k in killed_failures) - kill.killed_at, 3
            )
            if killed_failures and kill.killed_at
            else None,
            "last_failure_after_kill_s": round(
                max(done[k] for k in killed_failures) - kill.killed_at, 3
            )
            if killed_failures and kill.killed_at
            else None,
        }
    checked = bad = 0
    for payload, output, signature in samples:
        checked += 1
        good = output[:32] == load.square_of(payload) and bn254.verify_solidity(
            operator_pk, keccak256(output), signature
        )
        bad += not good
    rss = run.rss
    growth = (
        (rss["end"] - rss["middle"]) / rss["middle"] * 100
        if "middle" in rss and "end" in rss
        else None
    )
    lags = sorted(lag for r in run.results for lag in r.lag_ms)
    generators = [
        {
            "slot": r.slot,
            "concurrency": r.concurrency,
            "tasks": len(r.indexes),
            "sign_s": round(r.sign_seconds, 2),
            "cpu_pct_of_one_core": round(100 * r.cpu_seconds / r.wall_seconds, 1)
            if r.wall_seconds
            else None,
        }
        for r in run.results
    ]
    complete = (
        run.deployment is not None
        and run.deployment.success
        and kill is not None
        and not kill.error
        and window is not None
        and growth is not None
        and run.executor_died_at is None
    )
    target_lost = lost == 0 and not unexpected
    target_rss = growth is not None and growth < TARGET_RSS_GROWTH_PCT
    findings = log_findings(
        run.log_path, run.load_started_wall, kill.killed_wall if kill is not None else 0.0
    )
    return {
        "command": "bench/soak.py",
        "when": f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        "machine": machine(),
        "bn254_backend": bn254.backend(),
        "tasks": run.tasks,
        "concurrency": run.concurrency,
        "load_processes": run.processes,
        "sent": sum(1 for s in sent if s),
        "answered": answered,
        "lost": lost,
        "succeeded": len(ok),
        "failed": len(failures),
        "failed_by_code": by_code,
        "allowed_failures": len(allowed),
        "unexpected_failures": len(unexpected),
        "unexpected_examples": [failure_row(k) for k in unexpected[:20]],
        "load_seconds": round(duration, 2),
        "throughput_per_s": round(answered / duration, 1),
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 2),
            "p99": round(percentile(latencies, 0.99), 2),
            "max": round(latencies[-1], 2) if latencies else None,
        },
        "mean_in_flight": round(
            sum((done[k] - sent[k]) for k in range(len(codes)) if codes[k] != load.NOT_RUN)
            / duration,
            1,
        ),
        "rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "rss_at_tasks": run.rss_at,
        "rss_peak_mb": round(max((v for _, v in run.rss_samples), default=float("nan")), 1),
        "rss_growth_middle_to_end_pct": round(growth, 2) if growth is not None else None,
        "rss_timeline_mb": [(round(t - zero, 1), round(v, 1)) for t, v in run.rss_samples],
        "executor_cpu_pct_of_one_core": round(
            100 * run.executor_cpu / (run.load_finished - run.load_started), 1
        )
        if run.load_finished > run.load_started
        else None,
        "load_generators": generators,
        "event_loop_lag_ms": {
            "p50": round(percentile(lags, 0.5), 2),
            "p99": round(percentile(lags, 0.99), 2),
            "max": round(lags[-1], 2) if lags else None,
        },
        "deployment": deployment,
        "kill": kill_report,
        "signatures_checked": checked,
        "signatures_bad": bad,
        "executor_died_during_load": run.executor_died_at is not None,
        "executor_exit_code": res.exit_code,
        "left_behind": res.left,
        "executor_log": str(run.log_path),
        "executor_log_levels": findings["levels"],
        "executor_warnings_and_errors": findings["warnings_and_errors"],
        "executor_performer_events": findings["performer_events"],
        "registry_images": {"v2": registry.v2.reference},
        "complete": complete,
        "targets": {
            "lost_tasks_and_unexpected_failures": verdict(target_lost),
            "rss_growth_middle_to_end": verdict(target_rss),
        },
        "result": verdict(
            complete
            and target_lost
            and target_rss
            and bad == 0
            and res.exit_code == 0
            and not res.left
        ),
    }


def machine() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    docker = subprocess.run(
        ["docker", "version", "--format", "{{.Server.Version}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, Docker {docker}"


def print_report(r: dict[str, Any]) -> None:
    print(f"\n{r['machine']}; BN254 {r['bn254_backend']}; {r['when']}")
    print(f"executor log: {r['executor_log']}\n")
    lat = r["latency_ms"]
    rss = r["rss_mb"]
    growth = r["rss_growth_middle_to_end_pct"]
    rows: list[list[object]] = [
        ["tasks sent", r["sent"], "-", "-"],
        ["tasks answered", r["answered"], "-", "-"],
        ["tasks succeeded", r["succeeded"], "-", "-"],
        ["tasks failed", r["failed"], "-", "-"],
    ]
    for code, row in sorted(r["failed_by_code"].items()):
        rows.append(
            [
                f"  {code}",
                f"{row['total']} ({row['in_kill_window']} in the kill window, "
                f"{row['outside']} outside)",
                "-",
                "-",
            ]
        )
    rows += [
        ["concurrency (load processes)", f"{r['concurrency']} ({r['load_processes']})", "-", "-"],
        ["load duration s", r["load_seconds"], "-", "-"],
        ["throughput, tasks/s", f"{r['throughput_per_s']:.0f}", "-", "-"],
        ["latency p50 / p99 ms (succeeded)", f"{lat['p50']:.2f} / {lat['p99']:.2f}", "-", "-"],
        ["VmRSS start (after warm-up) MB", rss.get("start", "-"), "-", "-"],
        ["VmRSS middle MB", rss.get("middle", "-"), "-", "-"],
        ["VmRSS end MB", rss.get("end", "-"), "-", "-"],
        ["VmRSS peak MB (1 s samples)", r["rss_peak_mb"], "-", "-"],
        [
            "lost tasks / failures other than UNAVAILABLE of the killed AVS in the kill window",
            f"{r['lost']} / {r['unexpected_failures']}",
            "0 / 0",
            r["targets"]["lost_tasks_and_unexpected_failures"],
        ],
        [
            "VmRSS growth middle -> end",
            "-" if growth is None else f"{growth:.2f} %",
            f"< {TARGET_RSS_GROWTH_PCT:g} %",
            r["targets"]["rss_growth_middle_to_end"],
        ],
    ]
    print(table(["measurement", "value", "target", "result"], rows))
    print()
    d, k = r["deployment"], r["kill"]
    rows = []
    if d is not None:
        rows += [
            ["deployment (v2, first AVS) started at s", d["started_s"]],
            ["  DeployArtifact round trip s", d["round_trip_s"]],
            ["  result", "promoted" if d["success"] else f"FAILED: {d['message']}"],
            [
                "  tasks answered by v2 / by the old image",
                f"{d['answered_by_v2']} / {d['answered_by_old_image']}",
            ],
            [
                "  sent after promotion, answered by the old image",
                d["sent_after_promotion_answered_by_old_image"],
            ],
        ]
    if k is not None:
        rows += [
            ["kill (second AVS's performer) at s", k["killed_s"]],
            ["  docker kill took s", k["docker_kill_s"]],
            ["  ListPerformers reported it down after s", k["reported_down_after_s"]],
            ["  healthy again (new container) after s", k["healthy_again_after_s"]],
            ["  kill window s (with margin)", f"{k['window_s']} ({k['margin_s']:g} s margin)"],
            ["  failures of the killed AVS", k["failures_of_killed_avs"]],
            [
                "  first / last failure after the kill s",
                f"{k['first_failure_after_kill_s']} / {k['last_failure_after_kill_s']}",
            ],
        ]
        if k["error"]:
            rows.append(["  error", k["error"]])
    print(table(["disruption", "value"], rows))
    events = [
        e for e in r["executor_performer_events"] if 0 <= e.get("load_s", -1) <= r["load_seconds"]
    ]
    if events:
        print("\nexecutor log, deployment and performer lines during the load:")
        rows = [
            [
                e["msg"],
                e["avs"][:10] + "…",
                f"{e['load_s']:.3f}",
                f"{e['after_kill_s']:+.3f}" if "after_kill_s" in e else "-",
            ]
            for e in events
        ]
        print(table(["log line", "AVS", "s into the load", "s from the kill"], rows))
    print()
    lag = r["event_loop_lag_ms"]
    rows = [
        ["executor CPU during the load, % of one core", r["executor_cpu_pct_of_one_core"]],
        ["mean tasks in flight (sum of latencies / duration)", r["mean_in_flight"]],
        [
            "load generator event-loop lag p50 / p99 / max ms",
            f"{lag['p50']} / {lag['p99']} / {lag['max']}",
        ],
    ]
    for g in r["load_generators"]:
        rows.append(
            [
                f"load process {g['slot']}: c / tasks / signing s / CPU % of one core",
                f"{g['concurrency']} / {g['tasks']} / {g['sign_s']} / {g['cpu_pct_of_one_core']}",
            ]
        )
    rows += [
        [
            "result signatures checked / bad (sample)",
            f"{r['signatures_checked']} / {r['signatures_bad']}",
        ],
        [
            "executor exit code / left behind",
            f"{r['executor_exit_code']} / {', '.join(r['left_behind']) or 'nothing'}",
        ],
        [
            "executor log lines by level",
            ", ".join(f"{k} {v}" for k, v in sorted(r["executor_log_levels"].items())),
        ],
    ]
    print(table(["load and executor", "value"], rows))
    if r["unexpected_failures"]:
        print("\nfailures outside what is allowed (first 20):")
        for row in r["unexpected_examples"]:
            print(f"  {json.dumps(row)}")
    if r["executor_warnings_and_errors"]:
        print("\nexecutor warnings and errors, by message:")
        for msg, entry in sorted(
            r["executor_warnings_and_errors"].items(), key=lambda kv: -kv[1]["count"]
        )[:15]:
            print(f"  {entry['count']:6d}  {msg[:100]}\n          {entry['example'][:400]}")
    if not r["complete"]:
        print(
            "\nthe run is INCOMPLETE: the deployment or the kill did not happen as planned, "
            "the executor died, or the load ended before a reading"
        )
    print(f"\nresult: {r['result']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in all (100000)")
    parser.add_argument("--concurrency", type=int, default=64, help="tasks in flight (64)")
    parser.add_argument(
        "--load-processes",
        type=int,
        default=1,
        help="processes the load is spread over (1; the concurrency is shared among them)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.tasks < 100 or args.concurrency < 1 or not 1 <= args.load_processes <= args.concurrency:
        parser.error("--tasks >= 100, --concurrency >= 1, 1 <= --load-processes <= --concurrency")

    def on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        subprocess.run(["bash", "scripts/setup-env.sh"], cwd=REPO, check=True)
    if bn254.backend().startswith("python"):
        say("warning: the native BN254 library is not built; run make setup for real figures")
    aggregator_sk, aggregator_pk = load.key_pair(load.AGGREGATOR_KEY)
    _, operator_pk = load.key_pair(load.OPERATOR_KEY)
    workdir = Path(tempfile.mkdtemp(prefix="executor-soak-"))
    res = Resources(log_path=workdir / "executor.log")
    run = Run(
        args.tasks, args.concurrency, args.load_processes, log_path=res.log_path, workdir=workdir
    )
    began = time.monotonic()
    say(f"run directory {workdir} (kept: config, executor log, figures)")
    try:
        with running_registry() as registry:
            say(f"registry on {registry.url} ({time.monotonic() - began:.1f} s to set up)")
            try:
                asyncio.run(orchestrate(res, run, registry, aggregator_pk, aggregator_sk))
            finally:
                res.release()
            report = analyse(run, registry, operator_pk, res)
    except pytest.skip.Exception as exc:
        say(f"cannot run: {exc.msg}")
        return 2
    except KeyboardInterrupt:
        say("interrupted; the executor, the load processes and the registry were stopped")
        return 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    report["total_seconds"] = round(time.monotonic() - began, 1)
    (workdir / "soak.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
        print(f"total run time {report['total_seconds']:.0f} s; figures in {workdir / 'soak.json'}")
    return 0 if report["result"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
