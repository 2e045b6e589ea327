"""Example AVS performer: squares a big-endian uint256, modulo 2**256.

Environment:
  TASK_DELAY_MS      sleep this long before answering each task (drain and timeout tests)
  PERFORMER_VERSION  logged at start, to tell blue from green in logs (default v1)
  RESULT_TAG         appended, as ASCII, to every result after the 32-byte square (default empty),
                     so that tests can tell which image answered
  UNHEALTHY_AFTER_S  this many seconds after start, health checks turn and stay unhealthy
                     (HealthCheck READY_FOR_SYNC, grpc.health NOT_SERVING); tasks are still served
                     (default unset: always healthy)
  PERFORMER_PORT     port to serve on (default 8080, the port every executor dials)
  PERFORMER_HOST     address to bind (default 0.0.0.0, right in a container; tests use 127.0.0.1)
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable

from hourglass_performer import DEFAULT_PORT, HealthProbe, Task, TaskError, TaskHandler, serve

WORD_BYTES = 32
_MODULUS = 1 << (8 * WORD_BYTES)

log = logging.getLogger("example_performer")


def square(payload: bytes) -> bytes:
    """Return x*x mod 2**256 as 32 big-endian bytes, where x is the 32-byte payload."""
    if len(payload) != WORD_BYTES:
        raise TaskError(
            f"payload must be exactly {WORD_BYTES} bytes (a big-endian uint256), got {len(payload)}"
        )
    x = int.from_bytes(payload, "big")
    return (x * x % _MODULUS).to_bytes(WORD_BYTES, "big")


def make_handler(delay_seconds: float = 0.0, result_tag: bytes = b"") -> TaskHandler:
    """The task handler, sleeping `delay_seconds` first so that tests can hold a task open.

    The result is the square followed by `result_tag`, so that tests can tell images apart.
    """

    async def handle(task: Task) -> bytes:
        if delay_seconds > 0:
            await asyncio.sleep(delay_seconds)
        return square(task.payload) + result_tag

    return handle


def make_health(
    unhealthy_after_s: float | None, *, clock: Callable[[], float] = time.monotonic
) -> HealthProbe | None:
    """A probe that turns False `unhealthy_after_s` seconds from now; None means always healthy."""
    if unhealthy_after_s is None:
        return None
    turns_bad_at = clock() + unhealthy_after_s

    def healthy() -> bool:
        return clock() < turns_bad_at

    return healthy


def _optional_float(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else None


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    version = os.environ.get("PERFORMER_VERSION", "v1")
    delay_ms = int(os.environ.get("TASK_DELAY_MS", "0"))
    port = int(os.environ.get("PERFORMER_PORT", str(DEFAULT_PORT)))
    host = os.environ.get("PERFORMER_HOST", "0.0.0.0")
    result_tag = os.environ.get("RESULT_TAG", "").encode("ascii")
    unhealthy_after_s = _optional_float("UNHEALTHY_AFTER_S")
    health = make_health(unhealthy_after_s)
    log.info("example performer %s starting, task delay %d ms", version, delay_ms)
    if result_tag:
        log.info("results carry the tag %r", result_tag.decode())
    if unhealthy_after_s is not None:
        log.info("health checks turn unhealthy after %g s", unhealthy_after_s)
    serve(make_handler(delay_ms / 1000, result_tag), host=host, port=port, health=health)


if __name__ == "__main__":
    main()
