"""What an AVS team writes: a handler from a task to its result bytes, and the error it raises."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class Task:
    """One task as the executor sent it; `task_id` comes back unchanged in the response."""

    task_id: bytes
    payload: bytes


class TaskError(Exception):
    """The task itself is wrong (bad payload, failed precondition).

    Raised from a handler or validator it answers INVALID_ARGUMENT, so the executor can tell a
    rejected task from a broken performer (INTERNAL).
    """


TaskHandler: TypeAlias = Callable[[Task], Awaitable[bytes] | bytes]
"""Computes a task's result; may be a plain function or a coroutine function."""

TaskValidator: TypeAlias = Callable[[Task], Awaitable[None] | None]
"""Checks a task before the handler runs; raises TaskError (or ValueError) to reject it."""

HealthProbe: TypeAlias = Callable[[], Awaitable[bool] | bool]
"""Tells, on every health check, whether the performer can take tasks now.

False makes PerformerService/HealthCheck answer READY_FOR_SYNC instead of READY_FOR_TASK and
grpc.health.v1 Check answer NOT_SERVING; an exception counts as False.
"""
