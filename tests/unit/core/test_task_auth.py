"""Aggregator signatures: only tasks the AVS's aggregator signed reach the performer."""

from __future__ import annotations

import logging

import pytest

from executor_core.errors import InvalidArgument, InvalidTaskSignature, UnknownAggregator
from executor_core.executor import Executor

from .conftest import AGGREGATOR, AVS, Harness, aggregator_signature, make_task

PAYLOAD = (5).to_bytes(32, "big")


async def checked_executor(harness: Harness) -> Executor:
    executor = harness.build(harness.settings(verify_aggregator_signature=True))
    await executor.start()
    return executor


def signed_task(payload: bytes = PAYLOAD, *, aggregator: str = AGGREGATOR.value, signature=None):  # type: ignore[no-untyped-def]
    return make_task(
        "0x" + "22" * 32,
        AVS.value,
        payload,
        aggregator_address=aggregator,
        signature=aggregator_signature(payload) if signature is None else signature,
    )


def performer_calls(harness: Harness) -> int:
    return sum(len(client.calls) for client in harness.connector.clients)


async def test_a_task_signed_by_the_aggregator_runs(harness: Harness) -> None:
    executor = await checked_executor(harness)
    result = await executor.submit_task(signed_task(), timeout=5)
    assert int.from_bytes(result.output, "big") == 25
    assert harness.verifier.checked[0][1] == PAYLOAD


async def test_the_aggregator_address_matches_whatever_its_case(harness: Harness) -> None:
    executor = await checked_executor(harness)
    task = signed_task(aggregator="0x" + AGGREGATOR.value[2:].upper())
    assert (await executor.submit_task(task, timeout=5)).output


async def test_an_unknown_aggregator_is_refused_before_the_performer_runs(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    executor = await checked_executor(harness)
    with caplog.at_level(logging.WARNING), pytest.raises(UnknownAggregator):
        await executor.submit_task(signed_task(aggregator="0x" + "77" * 20), timeout=5)
    assert performer_calls(harness) == 0
    record = next(r for r in caplog.records if getattr(r, "errorType", "") == "UnknownAggregator")
    assert record.taskId == "0x" + "22" * 32  # type: ignore[attr-defined]
    assert record.avsAddress == AVS.value  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "signature", [b"", b"\x00" * 64, aggregator_signature(b"another payload")], ids=str
)
async def test_a_missing_or_bad_signature_is_refused_before_the_performer_runs(
    harness: Harness, signature: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    executor = await checked_executor(harness)
    with caplog.at_level(logging.WARNING), pytest.raises(InvalidTaskSignature, match="signature"):
        await executor.submit_task(signed_task(signature=signature), timeout=5)
    assert performer_calls(harness) == 0
    assert any(getattr(r, "taskId", None) for r in caplog.records)


async def test_a_missing_aggregator_address_names_the_field(harness: Harness) -> None:
    executor = await checked_executor(harness)
    task = make_task("0x01", AVS.value, PAYLOAD, signature=aggregator_signature(PAYLOAD))
    with pytest.raises(InvalidArgument) as caught:
        await executor.submit_task(task, timeout=5)
    assert caught.value.field == "aggregator_address"


async def test_with_the_check_explicitly_off_unsigned_tasks_run_and_a_warning_is_logged(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    executor = harness.build(harness.settings(verify_aggregator_signature=False))
    with caplog.at_level(logging.WARNING):
        await executor.start()
    assert any("signature check is OFF" in r.getMessage() for r in caplog.records)
    assert (await executor.submit_task(make_task("0x01", AVS.value, PAYLOAD), timeout=5)).output
    assert harness.verifier.checked == []


def test_an_executor_that_must_check_signatures_needs_an_authenticator(harness: Harness) -> None:
    from executor_core.live_performer import PerformerDeps

    with pytest.raises(ValueError, match="authenticator"):
        Executor(
            operator_address="0x" + "11" * 20,
            avs_settings=[harness.settings(verify_aggregator_signature=True)],
            signers={AVS: harness.signer},
            deps=PerformerDeps(
                runtime=harness.runtime,
                connector=harness.connector,
                clock=harness.clock,
                ids=harness.ids,
                instance_id="x",
            ),
        )
