"""Example AVS performer: squares a big-endian uint256, modulo 2**256.

Environment:
  TASK_DELAY_MS      sleep this long before answering each task (drain and timeout tests)
  PERFORMER_VERSION  logged at start, to tell blue from green in logs (default v1)
  PERFORMER_PORT     port to serve on (default 8080, the port every executor dials)
  PERFORMER_HOST     address to bind (default 0.0.0.0, right in a container; tests use 127.0.0.1)
"""

from __future__ import annotations

import asyncio
import logging
import os

from hourglass_performer import DEFAULT_PORT, Task, TaskError, TaskHandler, serve

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


def make_handler(delay_seconds: float = 0.0) -> TaskHandler:
    """The task handler, sleeping `delay_seconds` first so that tests can hold a task open."""

    async def handle(task: Task) -> bytes:
        if delay_seconds > 0:
            await asyncio.sleep(delay_seconds)
        return square(task.payload)

    return handle


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    version = os.environ.get("PERFORMER_VERSION", "v1")
    delay_ms = int(os.environ.get("TASK_DELAY_MS", "0"))
    port = int(os.environ.get("PERFORMER_PORT", str(DEFAULT_PORT)))
    host = os.environ.get("PERFORMER_HOST", "0.0.0.0")
    log.info("example performer %s starting, task delay %d ms", version, delay_ms)
    serve(make_handler(delay_ms / 1000), host=host, port=port)


if __name__ == "__main__":
    main()
