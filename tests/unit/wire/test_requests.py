"""Wire requests into domain values: every malformed field is named, never a Python error."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.grpc._requests import (
    parse_artifact,
    parse_avs_address,
    parse_performer_id,
    parse_task,
)
from executor_core.errors import InvalidArgument
from tests.unit.core.conftest import AVS

TASK_ID = "0x" + "ab" * 32
DIGEST = "sha256:" + "0" * 64


@pytest.mark.parametrize(
    ("task_id", "avs", "field"),
    [
        ("", AVS.value, "task_id"),
        ("0x12 34", AVS.value, "task_id"),
        ("x" * 300, AVS.value, "task_id"),
        (TASK_ID, "", "avs_address"),
        (TASK_ID, "0x1234", "avs_address"),
        (TASK_ID, "70997970c51812dc3a010c7d01b50e0d17dc79c8", "avs_address"),
    ],
)
def test_a_missing_or_malformed_field_is_named(task_id: str, avs: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_task(task_id, avs, b"")
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(
    ("registry_url", "digest", "field", "words"),
    [
        ("", DIGEST, "registry_url", "is required"),
        ("registry.local/avs", "", "digest", "is required"),
        ("Registry.Local/AVS", DIGEST, "registry_url", "must be an image repository"),
        ("registry.local/avs@sha256:1", DIGEST, "registry_url", "must be an image repository"),
        ("registry.local/avs", "sha256:ABC", "digest", "must be sha256: followed by 64"),
        ("registry.local/avs", "md5:" + "0" * 32, "digest", "must be sha256: followed by 64"),
    ],
)
def test_a_bad_artifact_names_its_field(
    registry_url: str, digest: str, field: str, words: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_artifact(registry_url, digest)
    assert caught.value.field == field
    assert words in caught.value.problem


def test_a_good_artifact_is_pulled_by_digest() -> None:
    image = parse_artifact("127.0.0.1:5000/avs", DIGEST)
    assert image.reference == f"127.0.0.1:5000/avs@{DIGEST}"


def test_an_empty_performer_id_is_named() -> None:
    with pytest.raises(InvalidArgument, match="performer_id: is required"):
        parse_performer_id("")


@given(st.text(max_size=60), st.text(max_size=60), st.binary(max_size=40), st.text(max_size=50))
def test_any_submission_parses_or_names_a_field(
    task_id: str, avs: str, payload: bytes, aggregator: str
) -> None:
    field = None
    try:
        task = parse_task(task_id, avs, payload, aggregator_address=aggregator)
    except InvalidArgument as exc:
        field = exc.field
    else:
        assert task.task_id.value == task_id
        assert task.avs_address == parse_avs_address(avs)
    assert field in (None, "task_id", "avs_address", "aggregator_address")


def test_a_registry_url_longer_than_docker_allows_is_refused_before_its_pattern() -> None:
    # The repository pattern takes time quadratic in the length: 20,000 characters of this
    # held the event loop for 4 s before the length was checked first.
    with pytest.raises(InvalidArgument) as caught:
        parse_artifact("a/" * 20_000 + "!", DIGEST)
    assert caught.value.field == "registry_url"
    assert caught.value.problem == "is 40001 characters long; at most 255 are allowed"


@pytest.mark.parametrize(
    ("call", "echo"),
    [
        (lambda: parse_artifact("\x1b[31mRED", DIGEST), "got '\\x1b[31mRED'"),
        (lambda: parse_avs_address("0x\x00" + "z" * 500), "got '0x\\x00" + "z" * 77 + "'…"),
        (
            lambda: parse_task("\u202e" * 100, AVS.value, b"", version=1),
            "got '" + "\\u202e" * 80 + "'…",
        ),
    ],
)
def test_echoed_values_are_escaped_and_cut(call: Callable[[], object], echo: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        call()
    assert caught.value.problem.endswith(echo)
