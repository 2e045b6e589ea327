"""Request bodies that are not valid messages: INVALID_ARGUMENT naming the method, always.

grpc parses a body with the handler's `request_deserializer` before the handler runs, and a
body that does not parse becomes UNKNOWN with the Python exception in the status
(`Unexpected <class 'google.protobuf.message.DecodeError'>: …`) and an error line with a
traceback in the log. Our own RPCs parse their bodies in `executor_service._wrap`; the services
grpc ships (health, reflection) are registered through `register_decoding_safely`, which gives
every handler of theirs a raw-bytes deserializer and parses the body itself.

A body can also parse and still not be the message: a field of the schema sent with another
wire type (a number where a string belongs) is kept by protobuf as an unknown field and reads
as empty, and betterproto2 takes it as a value of the wrong type. `wrong_wire_type` finds it.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Any

import grpc
from google.protobuf import unknown_fields
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

__all__ = [
    "MalformedBody",
    "not_a_message",
    "register_decoding_safely",
    "wrong_wire_type",
]

_VARINT, _FIXED64, _LENGTH_DELIMITED, _START_GROUP, _FIXED32 = 0, 1, 2, 3, 5
_WIRE_TYPES = {
    **dict.fromkeys(
        (
            FieldDescriptor.TYPE_INT32,
            FieldDescriptor.TYPE_INT64,
            FieldDescriptor.TYPE_UINT32,
            FieldDescriptor.TYPE_UINT64,
            FieldDescriptor.TYPE_SINT32,
            FieldDescriptor.TYPE_SINT64,
            FieldDescriptor.TYPE_BOOL,
            FieldDescriptor.TYPE_ENUM,
        ),
        _VARINT,
    ),
    **dict.fromkeys(
        (FieldDescriptor.TYPE_FIXED64, FieldDescriptor.TYPE_SFIXED64, FieldDescriptor.TYPE_DOUBLE),
        _FIXED64,
    ),
    **dict.fromkeys(
        (FieldDescriptor.TYPE_FIXED32, FieldDescriptor.TYPE_SFIXED32, FieldDescriptor.TYPE_FLOAT),
        _FIXED32,
    ),
    FieldDescriptor.TYPE_GROUP: _START_GROUP,
}


class MalformedBody(ValueError):
    """The body parses, but a field in it is not what the schema says."""


def not_a_message(method: str, message_name: str, detail: str = "") -> str:
    """What a caller is told about a body that is not a valid `message_name`."""
    return f"{method}: the body is not a valid {message_name} message" + (
        f" ({detail})" if detail else ""
    )


def _accepts(field: FieldDescriptor, wire_type: int) -> bool:
    expected = _WIRE_TYPES.get(field.type, _LENGTH_DELIMITED)
    # Repeated numbers may arrive packed (length-delimited) or one record each.
    return wire_type == expected or (field.is_repeated and wire_type == _LENGTH_DELIMITED)


def wrong_wire_type(message: Message, path: str = "") -> str | None:
    """The first field of `message` (recursively, `env[1].name`) that arrived with a wire type
    its schema does not allow, or None. Unknown field numbers are fine: newer clients send them.
    """
    descriptor: Descriptor = message.DESCRIPTOR
    for unknown in unknown_fields.UnknownFieldSet(message):
        field = descriptor.fields_by_number.get(unknown.field_number)
        if field is not None and not _accepts(field, unknown.wire_type):
            return f"{path}{field.name} has the wrong wire type"
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.is_repeated:
            if field.message_type.GetOptions().map_entry:
                continue
            for index, item in enumerate(value):
                problem = wrong_wire_type(item, f"{path}{field.name}[{index}].")
                if problem:
                    return problem
        else:
            problem = wrong_wire_type(value, f"{path}{field.name}.")
            if problem:
                return problem
    return None


def _message_name(deserializer: Callable[[bytes], Any]) -> str:
    owner = getattr(deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return str(getattr(descriptor, "full_name", "request"))


def _decoder(method: str, deserializer: Callable[[bytes], Any]) -> Callable[..., Any]:
    name = _message_name(deserializer)

    async def decode(body: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        try:
            message = deserializer(body)
            problem = wrong_wire_type(message) if isinstance(message, Message) else None
        except Exception:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, not_a_message(method, name))
        if problem:
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, not_a_message(method, name, problem)
            )
        return message

    return decode


async def _settled(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result


def decoding_safely(method: str, handler: grpc.RpcMethodHandler[Any, Any]) -> Any:
    """`handler` with its body parsed by us: INVALID_ARGUMENT for one that is not a message."""
    deserializer = handler.request_deserializer
    if deserializer is None:
        return handler
    decode = _decoder(method, deserializer)
    serializer = handler.response_serializer
    if handler.unary_unary is not None:
        unary = handler.unary_unary

        async def unary_unary(body: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            return await _settled(unary(await decode(body, context), context))

        return grpc.unary_unary_rpc_method_handler(unary_unary, None, serializer)
    if handler.unary_stream is not None:
        streaming = handler.unary_stream
        if inspect.isasyncgenfunction(streaming):

            async def unary_stream_gen(
                body: bytes, context: grpc.aio.ServicerContext[Any, Any]
            ) -> AsyncIterator[Any]:
                async for response in streaming(await decode(body, context), context):
                    yield response

            return grpc.unary_stream_rpc_method_handler(unary_stream_gen, None, serializer)

        async def unary_stream(body: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            return await _settled(streaming(await decode(body, context), context))

        return grpc.unary_stream_rpc_method_handler(unary_stream, None, serializer)

    async def requests(
        bodies: AsyncIterable[bytes], context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        async for body in bodies:
            yield await decode(body, context)

    if handler.stream_unary is not None:
        collecting = handler.stream_unary

        async def stream_unary(
            bodies: AsyncIterable[bytes], context: grpc.aio.ServicerContext[Any, Any]
        ) -> Any:
            return await _settled(collecting(requests(bodies, context), context))

        return grpc.stream_unary_rpc_method_handler(stream_unary, None, serializer)
    both = handler.stream_stream
    if inspect.isasyncgenfunction(both):

        async def stream_stream_gen(
            bodies: AsyncIterable[bytes], context: grpc.aio.ServicerContext[Any, Any]
        ) -> AsyncIterator[Any]:
            async for response in both(requests(bodies, context), context):
                yield response

        return grpc.stream_stream_rpc_method_handler(stream_stream_gen, None, serializer)

    async def stream_stream(
        bodies: AsyncIterable[bytes], context: grpc.aio.ServicerContext[Any, Any]
    ) -> Any:
        return await _settled(both(requests(bodies, context), context))

    return grpc.stream_stream_rpc_method_handler(stream_stream, None, serializer)


class _Registrations:
    """Stands in for the server while a `add_…Servicer_to_server` function registers."""

    def __init__(self) -> None:
        self.services: dict[str, dict[str, grpc.RpcMethodHandler[Any, Any]]] = {}

    def add_generic_rpc_handlers(self, handlers: Iterable[grpc.GenericRpcHandler]) -> None:
        """Ignored: the same handlers arrive through `add_registered_method_handlers`."""

    def add_registered_method_handlers(
        self, service: str, handlers: dict[str, grpc.RpcMethodHandler[Any, Any]]
    ) -> None:
        self.services[service] = handlers


def register_decoding_safely(
    server: grpc.aio.Server, add_to_server: Callable[[Any, Any], None], servicer: object
) -> None:
    """Register `servicer` as grpc's generated `add_…Servicer_to_server(servicer, server)`
    would, with every handler `decoding_safely`."""
    registrations = _Registrations()
    add_to_server(servicer, registrations)
    if not registrations.services:
        raise RuntimeError(f"{add_to_server.__name__} registered no service")
    for service, handlers in registrations.services.items():
        safe = {
            name: decoding_safely(f"{service}/{name}", handler)
            for name, handler in handlers.items()
        }
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, safe),))
        server.add_registered_method_handlers(service, safe)
