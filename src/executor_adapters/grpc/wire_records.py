"""Protobuf wire records, read without a schema: enough to take one field out of a body.

A bound management signature covers the request's bytes without its `auth` field
(`executor_core.management_messages`). Working on the bytes as sent, rather than on a
re-serialised message, keeps client and server agreeing whatever library either uses.
"""

from __future__ import annotations

__all__ = ["MalformedRecords", "without_field"]

_VARINT, _FIXED64, _LENGTH_DELIMITED, _FIXED32 = 0, 1, 2, 5


class MalformedRecords(ValueError):
    """The bytes are not a sequence of protobuf records."""


def _varint(body: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(body) or shift > 63:
            raise MalformedRecords("truncated or overlong varint")
        byte = body[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _record_end(body: bytes, wire_type: int, at: int) -> int:
    if wire_type == _VARINT:
        return _varint(body, at)[1]
    if wire_type == _FIXED64:
        end = at + 8
    elif wire_type == _FIXED32:
        end = at + 4
    elif wire_type == _LENGTH_DELIMITED:
        length, at = _varint(body, at)
        end = at + length
    else:
        raise MalformedRecords(f"unsupported wire type {wire_type}")
    if end > len(body):
        raise MalformedRecords("record runs past the end of the body")
    return end


def without_field(body: bytes, number: int) -> bytes:
    """`body` with every record of field `number` removed, the others kept in order."""
    kept = bytearray()
    at = 0
    while at < len(body):
        start = at
        key, at = _varint(body, at)
        field, wire_type = key >> 3, key & 7
        if field == 0:
            raise MalformedRecords("field number 0")
        at = _record_end(body, wire_type, at)
        if field != number:
            kept += body[start:at]
    return bytes(kept)
