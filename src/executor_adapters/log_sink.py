"""Structured logs: JSON lines through loguru, shaped like the Go executor's zap output.

The core logs through the standard `logging` module (it may not import loguru); its records,
with their `extra` fields such as avsAddress, taskId and performerId, are forwarded to loguru
here so that every line from every layer has one shape.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC
from typing import TYPE_CHECKING, Any, TextIO

from loguru import logger

if TYPE_CHECKING:
    from loguru import Message, Record

_STANDARD_RECORD_KEYS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)


def _json_line(record: Record) -> str:
    line: dict[str, Any] = {
        "level": record["level"].name.lower(),
        "ts": record["time"]
        .astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "caller": f"{record['name']}:{record['line']}",
        "msg": record["message"],
    }
    for key, value in record["extra"].items():
        line[key] = (
            value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
        )
    if record["exception"] is not None:
        exc_type, exc_value, _ = record["exception"]
        line["error"] = f"{exc_type.__name__ if exc_type else 'Exception'}: {exc_value}"
    return json.dumps(line, separators=(",", ":"))


class _JsonSink:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, message: Message) -> None:
        self._stream.write(_json_line(message.record) + "\n")
        self._stream.flush()


class _ToLoguru(logging.Handler):
    """Forward stdlib records to loguru, keeping their `extra` fields as structured fields."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD_RECORD_KEYS}
        logger.patch(
            lambda r: r.update(name=record.name, line=record.lineno)  # type: ignore[call-arg]
        ).opt(exception=record.exc_info).bind(**extra).log(level, record.getMessage())


def configure_logging(
    *, level: str = "info", fmt: str = "json", stream: TextIO | None = None
) -> None:
    """Send every log line (loguru and stdlib) to `stream` as JSON lines or as plain text."""
    target = stream or sys.stderr
    logger.remove()
    if fmt == "json":
        logger.add(_JsonSink(target), level=level.upper(), format="{message}")
    else:
        logger.add(
            target, level=level.upper(), format="{time:HH:mm:ss.SSS} {level:<7} {message} {extra}"
        )
    logging.basicConfig(handlers=[_ToLoguru()], level=logging.DEBUG, force=True)
    for noisy in ("asyncio", "aiodocker", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
