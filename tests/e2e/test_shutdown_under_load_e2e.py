"""End to end: SIGTERM to a real `executor run` process while 64 clients keep submitting tasks.

What docs/operations.md ("Stopping") promises, checked under load: the tasks the executor
accepted before the signal all finish with a signed result, the calls made after it are refused
with `UNAVAILABLE`, the process exits with status 0 within `shutdownGracePeriod` (plus a margin
for removing the container), and nothing it created in Docker is left.

A call counts as accepted when it started before the signal and was not turned away on its way
in (`never_admitted`: the executor's shutdown refusal, a closed port, or gRPC's own shutdown
cancelling a call no handler had taken yet; the last one is gRPC-core behaviour that no server
code can change, and is allowed, and counted, for calls that race the signal by milliseconds).
Run with `-s` to see the figures.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import grpc
import pytest

from executor_adapters.signing import bn254
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.docker_support import (
    INSTANCE_LABEL,
    REPO,
    containers_with_label,
    free_port,
    networks_with_label,
    require_example_image,
    track_instance,
)
from tests.e2e.signed_tasks import AGGREGATOR, AGGREGATOR_SECRET, AVS, SUBMIT

pytestmark = pytest.mark.docker

CLIENTS = 64
LOAD_BEFORE_SIGNAL = 2.0
TASK_DELAY_MS = 150
WORKERS = 4
GRACE = 10.0
EXIT_MARGIN = 10.0
PROMPT_REFUSAL = 1.0
"""A call started this long after the signal must no longer be accepted."""
SHUTDOWN_REFUSAL = "not accepting tasks"
RACE = 0.1
"""gRPC's shutdown cancels unmatched calls at once: shorter than any admitted task can take."""


@attrs.frozen
class Call:
    client: int
    started: float
    ended: float
    code: grpc.StatusCode
    details: str = ""
    task_id: str = ""


def write_config(tmp_path: Path, run_id: str, port: int) -> Path:
    """The example config with a unique network, a free port, a slow performer and a set grace."""
    text = (REPO / "examples/config/executor.yaml").read_text()
    text = text.replace("../keys/", str(REPO / "examples/keys") + "/")
    text = text.replace(
        "performerNetworkName: hourglass-demo",
        f"performerNetworkName: executor-e2e-shutdown-{run_id}",
    )
    text = text.replace("grpcPort: 9090", f"grpcPort: {port}\nshutdownGracePeriod: {GRACE:g}s")
    text = text.replace(
        "    workerCount: 4\n",
        f"    workerCount: {WORKERS}\n"
        f"    taskQueueSize: {CLIENTS}\n"
        "    envs:\n"
        "      - name: TASK_DELAY_MS\n"
        f'        value: "{TASK_DELAY_MS}"\n',
    )
    assert f"grpcPort: {port}" in text
    assert "TASK_DELAY_MS" in text
    assert f"executor-e2e-shutdown-{run_id}" in text
    path = tmp_path / "executor.yaml"
    path.write_text(text)
    return path


def log_records(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


@pytest.fixture
def executor_process(
    tmp_path: Path, run_id: str
) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    """`python -m executor_app run` on a free loopback port, once it logs `executor serving`."""
    require_example_image()
    port = free_port()
    config = write_config(tmp_path, run_id, port)
    log_path = tmp_path / "executor.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "executor_app",
                "run",
                "--config",
                str(config),
                "--listen-host",
                "127.0.0.1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        deadline = time.monotonic() + 120
        tracked = False
        while True:
            records = log_records(log_path)
            if not tracked:
                for record in records:
                    if "executorInstance" in record:
                        track_instance(record["executorInstance"], record.get("executorName"))
                        tracked = True
                        break
            if any(r.get("msg") == "executor serving" for r in records):
                break
            if proc.poll() is not None:
                pytest.fail("executor exited before serving:\n" + log_path.read_text())
            if time.monotonic() > deadline:
                pytest.fail("executor did not serve within 120 s:\n" + log_path.read_text())
            time.sleep(0.1)
        yield proc, port, log_path
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def submission(task_id: str, payload: bytes, signature: bytes) -> bytes:
    return bytes(
        pb.TaskSubmission(
            task_id=task_id,
            avs_address=AVS,
            payload=payload,
            aggregator_address=AGGREGATOR,
            signature=signature,
        )
    )


async def run_client(
    client: int, port: int, stop: asyncio.Event, calls: list[Call], wrong: list[str]
) -> None:
    """Submit tasks one after the other until told to stop, recording each call's outcome."""
    value = 1000 + client
    payload = value.to_bytes(32, "big")
    signature = bn254.sign(AGGREGATOR_SECRET, payload)
    expected = (value * value % 2**256).to_bytes(32, "big")
    # A connection of its own per client, as 64 separate aggregators would have.
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
    ) as channel:
        submit = channel.unary_unary(
            SUBMIT, request_serializer=bytes, response_deserializer=pb.TaskResult.FromString
        )
        seq = 0
        while not stop.is_set():
            seq += 1
            task_id = "0x" + f"{client:04x}{seq:060x}"
            request = submission(task_id, payload, signature)
            started = time.monotonic()
            try:
                result: pb.TaskResult = await submit(request, timeout=30)
            except grpc.aio.AioRpcError as exc:
                calls.append(
                    Call(
                        client, started, time.monotonic(), exc.code(), exc.details() or "", task_id
                    )
                )
                if exc.code() == grpc.StatusCode.UNAVAILABLE:
                    await asyncio.sleep(0.02)  # do not spin 64 loops on a closed port
                continue
            calls.append(Call(client, started, time.monotonic(), grpc.StatusCode.OK, "", task_id))
            if result.output != expected or len(result.result_signature) != 64:
                wrong.append(f"client {client} task {seq}: {result.output.hex()}")


def never_admitted(call: Call, signalled: float) -> bool:
    """Whether the call was turned away on its way in as the executor stopped, never admitted.

    By the executor itself (its shutdown refusal), by a closed port, or by gRPC's own shutdown:
    grpc-core cancels a call that reached the server but that no handler had taken yet
    (`CANCELLED`, within milliseconds), which no server-side code can answer differently. An
    admitted task cannot end that way: it takes `TASK_DELAY_MS` at least in the performer, and
    the executor's own errors carry its messages.
    """
    if call.code == grpc.StatusCode.UNAVAILABLE:
        return SHUTDOWN_REFUSAL in call.details or call.details.startswith("failed to connect")
    return (
        call.code == grpc.StatusCode.CANCELLED
        and call.details == "CANCELLED"
        and call.ended - call.started < RACE
        and abs(call.started - signalled) < RACE
    )


def breakdown(calls: list[Call]) -> dict[str, int]:
    counted = collections.Counter(c.code.name for c in calls)
    return dict(sorted(counted.items()))


async def test_sigterm_under_load_finishes_accepted_tasks_and_refuses_new_ones(
    executor_process: tuple[subprocess.Popen[bytes], int, Path],
) -> None:
    proc, port, log_path = executor_process
    stop = asyncio.Event()
    calls: list[Call] = []
    wrong: list[str] = []
    clients = [asyncio.create_task(run_client(i, port, stop, calls, wrong)) for i in range(CLIENTS)]
    try:
        await asyncio.sleep(LOAD_BEFORE_SIGNAL)
        assert not any(c.done() for c in clients), [c.exception() for c in clients if c.done()]
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(proc.wait, GRACE + EXIT_MARGIN)
        except subprocess.TimeoutExpired:
            code = None
        exited = time.monotonic() - signalled
        await asyncio.sleep(0.5)  # calls after the exit: the port is closed
    finally:
        stop.set()
        await asyncio.gather(*clients, return_exceptions=True)

    records = log_records(log_path)
    completed = {r.get("taskId") for r in records if r.get("msg") == "task completed"}
    before = [c for c in calls if c.started < signalled]
    after = [c for c in calls if c.started >= signalled]
    turned_away = [c for c in before if never_admitted(c, signalled)]
    accepted = [c for c in before if c not in turned_away]
    finished = [c for c in accepted if c.code == grpc.StatusCode.OK]
    failed = [c for c in accepted if c.code != grpc.StatusCode.OK]
    in_flight = [c for c in finished if c.ended >= signalled]
    last_finish = max((c.ended for c in in_flight), default=signalled) - signalled
    unavailable_after = [c for c in after if c.code == grpc.StatusCode.UNAVAILABLE]
    late_accepted = [c for c in after if c.code == grpc.StatusCode.OK]
    cancelled_after = [c for c in after if c.code == grpc.StatusCode.CANCELLED]
    raced = [c for c in cancelled_after if never_admitted(c, signalled)]
    other_after = [
        c
        for c in after
        if c.code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.OK) and c not in raced
    ]
    slow_refusal = [c for c in late_accepted if c.started - signalled > PROMPT_REFUSAL]
    lost = [c for c in calls if c.code != grpc.StatusCode.OK and c.task_id in completed]
    logged = [c for c in finished if c.task_id in completed]
    instance = next(r["executorInstance"] for r in records if "executorInstance" in r)
    label = f"{INSTANCE_LABEL}={instance}"
    containers_left = containers_with_label(label)
    networks_left = networks_with_label(label)

    print(f"\nshutdown under load: {CLIENTS} clients, {WORKERS} workers, {TASK_DELAY_MS} ms a task")
    print(f"  calls started before SIGTERM: {len(before)} {breakdown(before)}")
    print(f"    accepted {len(accepted)}: finished OK {len(finished)}, failed {len(failed)}")
    print(f"    running or queued at SIGTERM {len(in_flight)}, last done +{last_finish:.2f} s")
    print(f"    turned away on the way in (never admitted): {len(turned_away)}")
    print(
        f"    results in the executor's log {len(logged)}, errors after a logged result {len(lost)}"
    )
    print(f"  calls started after SIGTERM: {len(after)} {breakdown(after)}")
    print(f"    UNAVAILABLE {len(unavailable_after)}, other codes {len(other_after)}")
    print(f"    CANCELLED by gRPC's shutdown before any handler took them: {len(raced)}")
    print(f"    accepted (sent before the executor saw the signal): {len(late_accepted)}")
    refusals = collections.Counter(c.details.split(";")[0] for c in unavailable_after)
    for details, n in refusals.most_common(5):
        print(f"      {n} x UNAVAILABLE: {details[:100]}")
    print(f"  exit code {code} after {exited:.2f} s (limit {GRACE + EXIT_MARGIN:g} s)")
    print(f"  left in Docker: {len(containers_left)} containers, {len(networks_left)} networks")
    for c in (failed + other_after + raced + lost)[:10]:
        at = c.started - signalled
        print(f"    {c.code.name} client {c.client} at {at:+.3f} s for {c.ended - c.started:.3f} s")
        print(f"      {c.details[:200]}")

    assert code == 0, log_path.read_text()[-4000:]
    assert exited <= GRACE + EXIT_MARGIN
    assert not wrong, wrong[:5]
    assert len(in_flight) >= WORKERS, "the load did not keep tasks running at the signal"
    assert not failed, [(c.code.name, c.details) for c in failed[:10]]
    assert not other_after, [(c.code.name, c.details) for c in other_after[:10]]
    assert logged, "no 'task completed' line names a task id: the lost-result check is void"
    assert not lost, "a task completed but its caller got an error"
    assert unavailable_after, "no call was made after the signal"
    assert not slow_refusal, [c.started - signalled for c in slow_refusal]
    assert containers_left == []
    assert networks_left == []
    assert any(r.get("msg") == "executor stopped" for r in records)
