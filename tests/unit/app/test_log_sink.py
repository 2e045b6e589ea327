"""Log lines: one JSON object per record, zap-shaped, with the record's extra fields."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from executor_adapters.log_sink import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_a_record_becomes_one_json_line_with_its_fields() -> None:
    stream = io.StringIO()
    configure_logging(level="info", fmt="json", stream=stream)

    logging.getLogger("executor_core.executor").info(
        "task completed",
        extra={"taskId": "0x01", "durationMs": 1.5, "ok": True, "none": None, "obj": object},
    )

    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["level"] == "info"
    assert record["msg"] == "task completed"
    assert record["caller"].startswith("executor_core.executor:")
    assert record["ts"].endswith("Z")
    assert len(record["ts"]) == len("2026-12-01T10:00:00.000Z")
    assert (record["taskId"], record["durationMs"], record["ok"], record["none"]) == (
        "0x01",
        1.5,
        True,
        None,
    )
    assert record["obj"] == str(object)


@pytest.mark.usefixtures("restore_logging")
def test_records_below_the_level_are_not_written_and_errors_carry_the_exception() -> None:
    stream = io.StringIO()
    configure_logging(level="warning", fmt="json", stream=stream)
    log = logging.getLogger("executor_app")

    log.info("quiet")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")

    [line] = stream.getvalue().splitlines()
    assert json.loads(line)["error"] == "ValueError: boom"
    assert logging.getLogger().level == logging.WARNING


@pytest.mark.usefixtures("restore_logging")
def test_the_text_format_writes_a_line_for_people() -> None:
    stream = io.StringIO()
    configure_logging(level="info", fmt="text", stream=stream)

    logging.getLogger("executor_app").info("executor serving", extra={"address": "127.0.0.1:1"})

    assert "executor serving" in stream.getvalue()
    assert "127.0.0.1:1" in stream.getvalue()
