"""The four messages every task crosses, as protobuf's C (upb) classes.

The rest of the wire uses the betterproto2 messages of `hourglass_proto`; on the task path,
where each message is parsed or built once per task, betterproto2's pure-Python codec took
24 µs to parse a TaskSubmission and 33 µs to build a TaskResult, against 1.0 and 1.3 µs here
(docs/performance.md). The classes are made at import from the same descriptor set that serves
reflection, so both describe exactly the same bytes and there is no second generated copy. The
management RPCs keep betterproto2 but have their bodies checked by these classes first, since
betterproto2 reads a truncated or garbled body without complaint.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from executor_adapters.grpc.reflection import register_descriptors

__all__ = [
    "DecodeError",
    "TaskRequest",
    "TaskResponse",
    "TaskResult",
    "TaskSubmission",
    "message_class",
]


def message_class(full_name: str) -> Any:
    """The upb class of one of our messages, by its full protobuf name."""
    register_descriptors()
    descriptor = descriptor_pool.Default().FindMessageTypeByName(full_name)
    return message_factory.GetMessageClass(descriptor)


TaskSubmission: Any = message_class("eigenlayer.hourglass.v1.TaskSubmission")
TaskResult: Any = message_class("eigenlayer.hourglass.v1.TaskResult")
TaskRequest: Any = message_class("eigenlayer.hourglass.v1.performer.TaskRequest")
TaskResponse: Any = message_class("eigenlayer.hourglass.v1.performer.TaskResponse")
