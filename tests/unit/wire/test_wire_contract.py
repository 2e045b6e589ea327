"""Field numbers and types that G1 aggregators rely on, checked on the encoded bytes."""

from __future__ import annotations

from hourglass_proto.eigenlayer.hourglass import v1 as pb
from hourglass_proto.eigenlayer.hourglass.v1 import performer as perf


def test_task_submission_fields_have_the_upstream_numbers() -> None:
    encoded = bytes(
        pb.TaskSubmission(
            task_id="t", aggregator_address="a", avs_address="v", payload=b"p", signature=b"s"
        )
    )
    assert encoded == b"\x0a\x01t\x12\x01a\x1a\x01v\x22\x01p\x2a\x01s"


def test_task_result_fields_have_the_upstream_numbers() -> None:
    encoded = bytes(
        pb.TaskResult(
            task_id="t", operator_address="o", output=b"x", result_signature=b"s", avs_address="v"
        )
    )
    assert encoded == b"\x0a\x01t\x12\x01o\x1a\x01x\x22\x01s\x2a\x01v"


def test_performer_fields_have_the_upstream_numbers() -> None:
    encoded = bytes(
        pb.Performer(
            performer_id="i",
            avs_address="a",
            status="s",
            artifact_registry="r",
            artifact_digest="d",
            resource_healthy=True,
            application_healthy=True,
            last_health_check="l",
            container_id="c",
        )
    )
    assert encoded == (
        b"\x0a\x01i\x12\x01a\x1a\x01s\x22\x01r\x2a\x01d\x30\x01\x38\x01\x42\x01l\x4a\x01c"
    )


def test_performer_task_request_carries_the_task_id_as_bytes() -> None:
    assert bytes(perf.TaskRequest(task_id=b"0x01", payload=b"p")) == b"\x0a\x040x01\x12\x01p"
    assert perf.PerformerStatus.READY_FOR_TASK.value == 1
