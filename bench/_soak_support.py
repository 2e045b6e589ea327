"""The load generator of bench/soak.py: signed G1 tasks from grpc.aio clients, in a process of
its own (or several), and what the report needs to know about each task.

A load process gets every `processes`-th task index of the run (task `i` goes to
`AVSS[i % 2]`), signs and serialises all of them before the start, waits for the go signal and
then keeps `concurrency` tasks in flight on one grpc.aio channel until its tasks run out
(closed loop: a worker sends its next task as soon as the previous one is answered). For each
task it records when it was sent and answered (CLOCK_MONOTONIC, which is system-wide, so the
orchestrating process can compare these times with its own) and the answer: OK, a wrong
output, or the gRPC status code. A ticker measures how late the process's event loop wakes up,
which says whether this one process was able to keep its tasks in flight.
"""

from __future__ import annotations

import asyncio
import multiprocessing.connection
import multiprocessing.synchronize
import os
import signal
import sys
import time
import traceback
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for `tests.vectors`

import grpc  # noqa: E402

from executor_adapters.signing import bn254  # noqa: E402
from hourglass_proto.eigenlayer.hourglass import v1 as pb  # noqa: E402
from tests.vectors import load_vector  # noqa: E402

AVS_DEPLOYED = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
"""The AVS whose performer is replaced blue-green by the registry's v2 image."""
AVS_KILLED = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"
"""The AVS whose performer container is killed."""
AVSS = (AVS_DEPLOYED, AVS_KILLED)
OPERATOR = "0x6b58f6762689df33fe8fa3fc40fb5a3089d3a8cc"
AGGREGATOR = "0x90f79bf6eb2c4f870365e785982e1f101e93b906"
AGGREGATOR_KEY = "ponos-aggregator"
OPERATOR_KEY = "ponos-executor"
SUBMIT = "/eigenlayer.hourglass.v1.ExecutorService/SubmitTask"
TASK_TIMEOUT = 30.0
"""Client deadline of one task (the executor's own taskTimeout is 60 s)."""
SAMPLE_EVERY = 500
"""Every this many task indexes, the result is kept so that its signature can be checked."""
LAG_TICK = 0.01
OK = 0
WRONG_OUTPUT = -1
NOT_RUN = -2
TAGS = ("", "v1", "v2")
"""RESULT_TAG values the example images append; index OTHER_TAG for anything else."""
OTHER_TAG = len(TAGS)
NO_TAG = -1


def key_pair(name: str) -> tuple[int, bytes]:
    """A BN254 test key of tests/vectors/bn254_keys.json: secret and 128-byte G2 public key."""
    entry = next(k for k in load_vector("bn254_keys.json")["keys"] if k["name"] == name)
    return int(entry["sk_hex"], 16), bytes.fromhex(entry["pubkey_g2_bytes_hex"])


def avs_of(index: int) -> str:
    return AVSS[index % 2]


def payload_of(run: str, index: int) -> bytes:
    return (int(run, 16) << 64 | index).to_bytes(32, "big")


def task_id_of(run: str, index: int) -> str:
    return f"0x{run}{index:056x}"


def square_of(payload: bytes) -> bytes:
    x = int.from_bytes(payload, "big")
    return (x * x % 2**256).to_bytes(32, "big")


@dataclass(frozen=True)
class LoadSpec:
    target: str
    run: str
    """8 hex digits, unique to the run: part of every task id and payload."""
    tasks: int
    processes: int
    slot: int
    concurrency: int
    aggregator_sk: int

    def indexes(self) -> range:
        return range(self.slot, self.tasks, self.processes)


@dataclass
class LoadResult:
    """What one load process saw; arrays are parallel, one element per task of its slice."""

    slot: int
    concurrency: int
    indexes: array[int]
    sent: array[float]
    done: array[float]
    codes: array[int]
    """OK, WRONG_OUTPUT, NOT_RUN, or the gRPC status code's number."""
    tags: array[int]
    """Index into TAGS (OTHER_TAG for anything else) of an OK answer, NO_TAG otherwise."""
    details: dict[int, str] = field(default_factory=dict)
    """Task index -> the failure's details, for every task that did not succeed."""
    samples: list[tuple[bytes, bytes, bytes]] = field(default_factory=list)
    """(payload, output, result signature) of every SAMPLE_EVERY-th task answered OK."""
    sign_seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time (user + system) of this process while the load ran."""
    wall_seconds: float = 0.0
    lag_ms: list[float] = field(default_factory=list)
    """How late each LAG_TICK sleep of the event loop woke up, ms, sorted."""


def _signed_requests(spec: LoadSpec) -> list[bytes]:
    """Every task of this slice, signed (BN254 over the payload) and serialised."""

    def one(index: int) -> bytes:
        payload = payload_of(spec.run, index)
        return bytes(
            pb.TaskSubmission(
                task_id=task_id_of(spec.run, index),
                avs_address=avs_of(index),
                payload=payload,
                aggregator_address=AGGREGATOR,
                signature=bn254.sign(spec.aggregator_sk, payload),
            )
        )

    # The native signer releases the GIL; serialising does not, so two threads suffice.
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        return list(pool.map(one, spec.indexes(), chunksize=512))


async def _load(
    spec: LoadSpec,
    conn: multiprocessing.connection.Connection,
    go: multiprocessing.synchronize.Event,
    progress: Any,
) -> None:
    began = time.monotonic()
    requests = _signed_requests(spec)
    sign_seconds = time.monotonic() - began
    indexes = array("q", spec.indexes())
    n = len(indexes)
    sent = array("d", bytes(8 * n))
    done = array("d", bytes(8 * n))
    codes = array("b", [NOT_RUN]) * n
    tags = array("b", [NO_TAG]) * n
    result = LoadResult(spec.slot, spec.concurrency, indexes, sent, done, codes, tags)
    result.sign_seconds = sign_seconds
    channel = grpc.aio.insecure_channel(spec.target)
    try:
        await asyncio.wait_for(channel.channel_ready(), 60)
        call = channel.unary_unary(SUBMIT)  # bytes in, bytes out: serialised beforehand
        conn.send(("ready", sign_seconds))
        await asyncio.to_thread(go.wait)
        positions = iter(range(n))
        finished = asyncio.Event()
        lags: list[float] = []

        async def ticker() -> None:
            while not finished.is_set():
                before = time.monotonic()
                await asyncio.sleep(LAG_TICK)
                lags.append((time.monotonic() - before - LAG_TICK) * 1000)

        async def worker() -> None:
            for k in positions:  # one iterator shared by all workers: each task runs once
                index = indexes[k]
                sent[k] = time.monotonic()
                try:
                    raw = await call(requests[k], timeout=TASK_TIMEOUT)
                except grpc.aio.AioRpcError as exc:
                    done[k] = time.monotonic()
                    codes[k] = exc.code().value[0]
                    result.details[index] = str(exc.details())[:300]
                else:
                    done[k] = time.monotonic()
                    _check(result, k, index, spec.run, raw)
                progress[spec.slot] += 1

        cpu = time.process_time()
        start = time.monotonic()
        tick = asyncio.create_task(ticker())
        await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
        finished.set()
        await tick
        result.wall_seconds = time.monotonic() - start
        result.cpu_seconds = time.process_time() - cpu
        result.lag_ms = sorted(lags)
    finally:
        await channel.close()
    conn.send(("done", result))


def _check(result: LoadResult, k: int, index: int, run: str, raw: bytes) -> None:
    """An OK answer: the right task, its payload's square, and which image answered."""
    answer = pb.TaskResult.FromString(raw)
    payload = payload_of(run, index)
    output = answer.output
    if answer.task_id != task_id_of(run, index) or output[:32] != square_of(payload):
        result.codes[k] = WRONG_OUTPUT
        result.details[index] = f"wrong answer: task {answer.task_id}, output {output.hex()}"
        return
    result.codes[k] = OK
    tag = output[32:].decode(errors="replace")
    result.tags[k] = TAGS.index(tag) if tag in TAGS else OTHER_TAG
    if index % SAMPLE_EVERY == 0:
        result.samples.append((payload, output, answer.result_signature))


def load_process(
    spec: LoadSpec,
    conn: multiprocessing.connection.Connection,
    go: multiprocessing.synchronize.Event,
    progress: Any,
) -> None:
    """Entry point of a load process (spawned). Ctrl-C is the orchestrator's to handle: it
    terminates this process by pid."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        asyncio.run(_load(spec, conn, go, progress))
    except BaseException:
        conn.send(("error", traceback.format_exc()))
        raise
