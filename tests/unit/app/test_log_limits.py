"""Rate limits on the log lines callers can cause: token buckets per kind, and a summary."""

from __future__ import annotations

import logging

import pytest

from executor_adapters.event_log import EventLog
from executor_adapters.log_limits import LimitedLog, LogBuckets
from executor_core import events as ev
from executor_core.addresses import AvsAddress
from executor_core.performers import PerformerImage

AVS = AvsAddress.parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_a_burst_through_then_one_line_per_refill() -> None:
    clock = Clock()
    buckets = LogBuckets(burst=3, per_second=0.5, clock=clock)
    assert [buckets.admit("k") for _ in range(5)] == [0, 0, 0, None, None]
    clock.now = 1.0
    assert buckets.admit("k") is None
    clock.now = 2.0
    assert buckets.admit("k") == 3
    assert buckets.admit("k") is None


def test_kinds_have_buckets_of_their_own() -> None:
    buckets = LogBuckets(burst=1, per_second=1, clock=Clock())
    assert buckets.admit(("SubmitTask", "NOT_FOUND")) == 0
    assert buckets.admit(("SubmitTask", "NOT_FOUND")) is None
    assert buckets.admit(("SubmitTask", "INVALID_ARGUMENT")) == 0


def test_the_table_of_kinds_stays_bounded() -> None:
    clock = Clock()
    buckets = LogBuckets(burst=1, per_second=1, clock=clock)
    for kind in range(5000):
        buckets.admit(kind)
        clock.now += 0.001
    assert len(buckets._buckets) <= 1024


@pytest.mark.parametrize(("burst", "per_second"), [(0, 1.0), (1, 0.0)])
def test_a_bucket_that_would_never_admit_is_refused(burst: int, per_second: float) -> None:
    with pytest.raises(ValueError, match="burst"):
        LogBuckets(burst=burst, per_second=per_second)


def test_the_next_line_through_is_preceded_by_a_count_of_those_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    limited = LimitedLog(logging.getLogger("t.limited"), LogBuckets(burst=2, clock=clock))
    kind = {"grpc.method": "SubmitTask", "grpc.code": "NOT_FOUND"}
    with caplog.at_level(logging.INFO, logger="t.limited"):
        for n in range(10):
            limited.log(logging.INFO, f"call {n}", kind=kind, extra={"taskId": str(n)})
        clock.now = 5.0
        limited.log(logging.INFO, "call 10", kind=kind, extra={"taskId": "10"})
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["call 0", "call 1", "suppressed 8 similar lines", "call 10"]
    summary = caplog.records[2]
    assert (getattr(summary, "grpc.method"), getattr(summary, "grpc.code")) == (
        "SubmitTask",
        "NOT_FOUND",
    )
    assert summary.suppressed == 8  # type: ignore[attr-defined]
    assert caplog.records[3].taskId == "10"  # type: ignore[attr-defined]
    assert summary.filename == "test_log_limits.py"


def test_a_disabled_level_costs_no_token(caplog: pytest.LogCaptureFixture) -> None:
    limited = LimitedLog(logging.getLogger("t.quiet"), LogBuckets(burst=1, clock=Clock()))
    with caplog.at_level(logging.WARNING, logger="t.quiet"):
        limited.log(logging.DEBUG, "hidden", kind={"k": 1}, extra={})
        limited.log(logging.WARNING, "shown", kind={"k": 1}, extra={})
    assert [r.getMessage() for r in caplog.records] == ["shown"]


def _failed(task: int, error_type: str) -> ev.TaskFailed:
    return ev.TaskFailed(AVS, f"0x{task:02x}", "no performer serves AVS", error_type, 1.0)


def test_task_failures_are_limited_per_error_type_other_events_are_not(
    caplog: pytest.LogCaptureFixture,
) -> None:
    listener = EventLog(LogBuckets(burst=3, clock=Clock()))
    image = PerformerImage("repo", tag="latest")
    with caplog.at_level(logging.INFO, logger="executor.events"):
        for task in range(50):
            listener(_failed(task, "AvsNotFound"))
            listener(ev.ManagementAuthRefused("DeployArtifact", "invalid signature"))
        listener(_failed(99, "UnknownAggregator"))
        for n in range(10):
            listener(ev.DeploymentStarted(AVS, f"deployment-{n}", image))
    lines = [(r.getMessage(), getattr(r, "errorType", None)) for r in caplog.records]
    assert lines.count(("task failed", "AvsNotFound")) == 3
    assert lines.count(("task failed", "UnknownAggregator")) == 1
    assert lines.count(("management call refused: authentication failed", None)) == 3
    assert lines.count(("deployment started", None)) == 10
