"""Hostile bodies to every RPC of both generations, over real gRPC connections (issue #12).

Seeded random bytes, and request messages that hypothesis builds with random field values
(valid-looking values, NUL and control characters, huge strings, wrong wire types) and then
mutates byte by byte, go to every RPC of ExecutorService and ExecutorManagementService and to
the health service, on an executor of in-memory fakes: with authentication off (the default,
calls from loopback), with it on, and with it off for a caller on another host. Nothing may
come back as INTERNAL or UNKNOWN or carry a Python exception's text, no line may be logged at
error level, the lines at warning and the access lines stay within their rate limits, the
server still answers its health check, and the process does not grow.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import math
import random
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import attrs
import grpc
import pytest
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from grpc_health.v1 import health_pb2
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from executor_adapters.config import ManagementConfig, SigningCurve
from executor_adapters.grpc.server import ExecutorServer
from executor_adapters.grpc.task_messages import message_class
from executor_adapters.log_limits import DEFAULT_BURST, DEFAULT_PER_SECOND
from executor_adapters.memory import InMemoryContainerRuntime
from executor_core.text import ECHO_LIMIT
from tests.contract.test_management_auth import OPERATOR_ECDSA
from tests.contract.test_management_service import FromElsewhere
from tests.unit.core.conftest import AVS, IMAGE, OPERATOR, OTHER_AVS, Harness

G1 = "/eigenlayer.hourglass.v1.ExecutorService/"
G2 = "/eigenlayer.hourglass.v1.ExecutorManagementService/"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
PACKAGE = "eigenlayer.hourglass.v1."
PATHS: dict[str, str] = {
    G1 + "SubmitTask": "TaskSubmission",
    G1 + "DeployArtifact": "DeployArtifactRequest",
    G1 + "ListPerformers": "ListPerformersRequest",
    G1 + "RemovePerformer": "RemovePerformerRequest",
    G2 + "DeployArtifact": "DeployArtifactRequest",
    G2 + "ListPerformers": "ListPerformersRequest",
    G2 + "RemovePerformer": "RemovePerformerRequest",
    G2 + "GetChallengeToken": "GetChallengeTokenRequest",
}
RANDOM_BODIES = 2000
"""Per path, health included."""
BUILT_MESSAGES = 400
"""Per request type, built by hypothesis, each sent to every path of its type as built and
`COPIES_MUTATED` times more with seeded byte-level mutations: 2,000 hypothesis-made messages
per path."""
COPIES_MUTATED = 4
LEAKS = re.compile(r"Traceback|Error:|<class|Exception|File \"")
MAX_DETAILS = 4 * ECHO_LIMIT + 400
"""Longest answer a message may be: its own words and a few echoed values, each cut."""
MAX_RSS_GROWTH = 50 * 1024 * 1024


# --- bodies ------------------------------------------------------------------------------------


def random_bodies(seed: int, count: int) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.choice((0, 1, 2, 8, 40, 120, 600))) for _ in range(count)]


HEX = "0123456789abcdef"
VALID_LOOKING = [
    AVS.value,
    AVS.value.upper().replace("0X", "0x"),
    OTHER_AVS.value,
    OPERATOR,
    "0x" + "ab" * 20,
    "0x" + "01" * 32,
    "0x01",
    "ab" * 32,
    "sha256:" + "ab" * 32,
    "sha256:" + "AB" * 32,
    "repo",
    "registry.local:5000/avs",
    "performer-" + AVS.value + "-1",
    "NAME",
    "PATH",
]
NASTY = [
    "",
    "\x00",
    "a\x00b",
    "\x1b[31mred\x1b[0m\x07",
    "\u202eevil",
    "line\nbreak\r\n",
    "\t ",
    "é" * 300,
    "🙂" * 100,
    "0x" + "ab" * 20 + "\x00",
    "%s%n{0}",
    "sha256:" + "ab" * 32 + "\n",
    "repo@sha256:" + "ab" * 32,
    "a/" * 2000 + "!",
]


def _text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(VALID_LOOKING),
        st.sampled_from(NASTY),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
        st.text(alphabet=HEX, min_size=0, max_size=70).map(lambda digits: "0x" + digits),
        st.integers(300, 70_000).map(lambda size: "a" * size),
    )


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_STRING:
        return _text()
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.one_of(st.binary(max_size=100), st.integers(0, 5000).map(bytes))
    if field.type == FieldDescriptor.TYPE_UINT64:
        return st.one_of(st.integers(0, 3), st.integers(0, 2**64 - 1))
    if field.type == FieldDescriptor.TYPE_UINT32:
        return st.one_of(st.integers(0, 3), st.integers(0, 2**32 - 1))
    raise AssertionError(f"no strategy for {field.full_name}")


def message_fields(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """The fields of one message of `descriptor`, each present or not, with random values."""
    values: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth >= 3:
                continue
            inner = message_fields(field.message_type, depth + 1)
            if field.is_repeated:
                values[field.name] = st.one_of(
                    st.lists(inner, max_size=3),
                    st.integers(250, 300).map(lambda n: [{"name": f"V{i}"} for i in range(n)]),
                )
            else:
                values[field.name] = inner
        else:
            values[field.name] = _scalar(field)
    return st.fixed_dictionaries({}, optional=values)


def _mutate(body: bytes, mutations: list[tuple[str, int, bytes]]) -> bytes:
    data = bytearray(body)
    for operation, where, noise in mutations:
        at = where % (len(data) + 1)
        if operation == "flip" and data:
            data[at % len(data)] ^= noise[0] if noise else 0xFF
        elif operation == "truncate":
            del data[at:]
        elif operation == "insert":
            data[at:at] = noise
        elif operation == "duplicate":
            data += data[at:]
        elif operation == "retype":
            # a record of a schema field number with any wire type: a number where a string is
            number, wire_type = 1 + where % 10, noise[0] % 6 if noise else 0
            data += bytes([(number << 3) | wire_type]) + noise[1:]
    return bytes(data)


MUTATIONS = st.lists(
    st.tuples(
        st.sampled_from(("flip", "truncate", "insert", "duplicate", "retype")),
        st.integers(0, 2**16),
        st.binary(min_size=1, max_size=9),
    ),
    max_size=3,
)


def mutated(bodies: tuple[bytes, ...], seed: int) -> list[bytes]:
    """Each body `COPIES_MUTATED` times more, each with one to three seeded byte mutations."""
    rng = random.Random(seed)
    operations = ("flip", "truncate", "insert", "duplicate", "retype")
    return [
        _mutate(
            body,
            [
                (rng.choice(operations), rng.randrange(2**16), rng.randbytes(rng.randint(1, 9)))
                for _ in range(rng.randint(1, 3))
            ],
        )
        for body in bodies
        for _ in range(COPIES_MUTATED)
    ]


@functools.cache
def built_messages(message_name: str, count: int) -> tuple[bytes, ...]:
    """`count` encodings of `message_name` built by hypothesis: random field values, and for
    some byte-level mutations. Derandomized, so every run sends the same bodies."""
    cls = message_class(PACKAGE + message_name)
    bodies: list[bytes] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(fields=message_fields(cls.DESCRIPTOR), mutations=MUTATIONS)
    def collect(fields: dict[str, Any], mutations: list[tuple[str, int, bytes]]) -> None:
        bodies.append(_mutate(cls(**fields).SerializeToString(), mutations))

    collect()
    return tuple(bodies)


# --- calls and what they leave -----------------------------------------------------------------


@attrs.define
class Outcome:
    path: str
    body: bytes
    code: grpc.StatusCode
    details: str


class Lines(logging.Handler):
    """Every log record of the run, kept small: level, message, and the fields of a kind."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def at(self, level: int) -> list[logging.LogRecord]:
        return [r for r in self.records if r.levelno == level]


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def fire(channel: grpc.aio.Channel, calls: list[tuple[str, bytes]]) -> list[Outcome]:
    limit = asyncio.Semaphore(64)
    stubs = {
        path: channel.unary_unary(
            path, request_serializer=lambda b: b, response_deserializer=lambda b: b
        )
        for path, _ in calls
    }

    async def one(path: str, body: bytes) -> Outcome:
        async with limit:
            try:
                await stubs[path](body, timeout=20)
            except grpc.aio.AioRpcError as exc:
                return Outcome(path, body, exc.code(), exc.details() or "")
            return Outcome(path, body, grpc.StatusCode.OK, "")

    return list(await asyncio.gather(*(one(path, body) for path, body in calls)))


def corpus(scale: float) -> list[tuple[str, bytes]]:
    """Every path gets its share of random bodies (health too) and of mutated messages of its
    own request type."""
    randoms = max(1, int(RANDOM_BODIES * scale))
    built_count = max(1, int(BUILT_MESSAGES * scale))
    calls: list[tuple[str, bytes]] = []
    for seed, path in enumerate((*PATHS, HEALTH_CHECK)):
        calls += [(path, body) for body in random_bodies(seed, randoms)]
    for seed, (path, message) in enumerate(PATHS.items()):
        built = built_messages(message, BUILT_MESSAGES)[:built_count]
        calls += [(path, body) for body in (*built, *mutated(built, seed))]
    random.Random(7).shuffle(calls)
    return calls


Start = Callable[..., Any]


@pytest.fixture
async def start() -> AsyncIterator[Start]:
    harness = Harness()
    # Only the configured image exists: a deployment that passes every check ends NOT_FOUND
    # at the pull, quickly, instead of starting performers.
    harness.runtime = InMemoryContainerRuntime(available_images=[IMAGE])
    servers: list[ExecutorServer] = []

    async def serve(*, authentication: bool, elsewhere: bool = False) -> ExecutorServer:
        extra: dict[str, Any] = {}
        if authentication:
            extra = {
                "authentication": True,
                "management": ManagementConfig(),
                "signers": {SigningCurve.ECDSA: OPERATOR_ECDSA},
            }
        executor = harness.build(harness.settings(), **extra)
        await executor.start()
        server = ExecutorServer(
            executor,
            host="127.0.0.1",
            port=0,
            interceptors=(FromElsewhere(),) if elsewhere else (),
        )
        await server.start()
        servers.append(server)
        return server

    yield serve
    for server in servers:
        await server.stop(0)
    for executor in harness.executors:
        await executor.shutdown(0)


def _kind(record: logging.LogRecord) -> tuple[object, ...]:
    names = ("grpc.service", "grpc.method", "grpc.code", "event", "errorType", "method")
    return (record.name, *(getattr(record, name, None) for name in names))


def assert_within_rate_limits(records: list[logging.LogRecord], seconds: float) -> None:
    allowed = DEFAULT_BURST + math.ceil(seconds * DEFAULT_PER_SECOND) + 1
    kinds = collections.Counter(
        _kind(r) for r in records if not r.getMessage().startswith("suppressed ")
    )
    over = {kind: count for kind, count in kinds.items() if count > allowed}
    assert not over, f"more than {allowed} lines of a kind in {seconds:.1f} s: {over}"


@pytest.mark.parametrize(
    ("authentication", "elsewhere", "scale"),
    [(False, False, 1.0), (True, False, 0.25), (False, True, 0.1)],
    ids=["auth-off", "auth-on", "auth-off-remote"],
)
async def test_hostile_bodies_get_client_errors_and_leave_no_trace(
    start: Start, lines: Lines, authentication: bool, elsewhere: bool, scale: float
) -> None:
    calls = corpus(scale)
    server = await start(authentication=authentication, elsewhere=elsewhere)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{server.port}")
    before = rss()
    began = time.monotonic()
    try:
        outcomes = await fire(channel, calls)
        elapsed = time.monotonic() - began
        health = await channel.unary_unary(
            HEALTH_CHECK,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )(health_pb2.HealthCheckRequest(), timeout=5)
    finally:
        await channel.close()
    grown = rss() - before

    codes = collections.Counter((o.path.rpartition("/")[2], o.code.name) for o in outcomes)
    bad = [o for o in outcomes if o.code in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN)]
    assert not bad, f"{len(bad)} calls got INTERNAL or UNKNOWN, first {bad[0]!r}; {codes}"
    leaky = [o for o in outcomes if LEAKS.search(o.details)]
    assert not leaky, f"{len(leaky)} answers carry Python internals, first {leaky[0]!r}"
    long = [o for o in outcomes if len(o.details) > MAX_DETAILS]
    assert not long, f"an answer of {len(long[0].details)} characters: {long[0].details[:200]!r}"
    for outcome in outcomes:
        if "the body is not a valid" in outcome.details:
            assert outcome.code is grpc.StatusCode.INVALID_ARGUMENT
            method = outcome.path.rpartition("/")[2]
            assert outcome.details.startswith(
                "grpc.health.v1.Health/Check:" if method == "Check" else f"request: {method}:"
            ), outcome
    assert {path for path, _ in calls} == {*PATHS, HEALTH_CHECK}
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert grown < MAX_RSS_GROWTH, f"RSS grew by {grown / 2**20:.1f} MiB"

    assert not lines.at(logging.ERROR), [r.getMessage() for r in lines.at(logging.ERROR)]
    assert_within_rate_limits(lines.at(logging.WARNING), elapsed)
    failed_access = [
        r
        for r in lines.at(logging.INFO)
        if r.getMessage().startswith("finished unary call")
        and getattr(r, "grpc.code", "OK") != "OK"
    ]
    assert_within_rate_limits(failed_access, elapsed)
    assert len(lines.records) < len(calls) / 2
