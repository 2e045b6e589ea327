"""Hourglass performer SDK: serve one task handler as the PerformerService an executor calls.

::

    from hourglass_performer import Task, serve

    def handle(task: Task) -> bytes:
        return task.payload[::-1]

    serve(handle)  # port 8080, until SIGTERM

Raise `TaskError` (or ValueError) for a bad task: the executor sees INVALID_ARGUMENT. Any other
exception is INTERNAL. Handlers run on the event loop, so a long CPU-bound handler should be a
coroutine that offloads its work (`asyncio.to_thread`) to keep health checks answering.
"""

from hourglass_performer.server import (
    DEFAULT_GRACE,
    DEFAULT_MAX_MESSAGE_SIZE,
    DEFAULT_PORT,
    RunningPerformer,
    serve,
    start_server,
)
from hourglass_performer.service import SERVICE_NAME
from hourglass_performer.task import HealthProbe, Task, TaskError, TaskHandler, TaskValidator

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "DEFAULT_PORT",
    "SERVICE_NAME",
    "HealthProbe",
    "RunningPerformer",
    "Task",
    "TaskError",
    "TaskHandler",
    "TaskValidator",
    "serve",
    "start_server",
]
