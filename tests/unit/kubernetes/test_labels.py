"""Label values Kubernetes refuses are digested, and read back whole from annotations."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.kubernetes._labels import (
    label_selector,
    label_value,
    labels_and_annotations,
    original_labels,
)

_VALID_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
_KEYS = st.sampled_from(
    ["com.eigenlayer.hourglass.performer-id", "hourglass.eigenlayer.io/avs", "app"]
)


@given(st.text(max_size=300))
def test_every_value_becomes_a_label_kubernetes_takes(value: str) -> None:
    label = label_value(value)

    assert len(label) <= 63
    assert _VALID_VALUE.fullmatch(label)


@given(st.text(max_size=100), st.text(max_size=100))
def test_different_values_get_different_labels(first: str, second: str) -> None:
    if first != second:
        assert label_value(first) != label_value(second)


def test_a_value_kubernetes_takes_is_kept_as_it_is() -> None:
    assert label_value("0x" + "ab" * 20) == "0x" + "ab" * 20
    assert label_value("") == ""


def test_a_performer_id_longer_than_63_characters_is_digested() -> None:
    performer = "performer-0x" + "ab" * 20 + "-" + "c" * 32

    assert label_value(performer).startswith("sha256-")


@given(st.dictionaries(_KEYS, st.text(max_size=120), min_size=1))
def test_labels_read_back_are_the_labels_written(labels: dict[str, str]) -> None:
    as_labels, annotations = labels_and_annotations(labels)

    assert original_labels(as_labels, annotations) == labels


def test_an_annotation_that_no_longer_matches_its_label_is_not_believed() -> None:
    as_labels, annotations = labels_and_annotations({"app": "x" * 80})
    annotations["app"] = "y" * 80

    assert original_labels(as_labels, annotations) == as_labels


def test_a_selector_matches_the_written_labels() -> None:
    assert label_selector({"app": "a", "hourglass.eigenlayer.io/avs": "x" * 70}) == (
        f"app=a,hourglass.eigenlayer.io/avs={label_value('x' * 70)}"
    )


def test_an_empty_selector_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one label"):
        label_selector({})


@pytest.mark.parametrize("key", ["", "with space", "UPPER.example/x", "a/b/c", "x" * 64])
def test_a_key_kubernetes_refuses_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match="not a Kubernetes label key"):
        labels_and_annotations({key: "v"})
