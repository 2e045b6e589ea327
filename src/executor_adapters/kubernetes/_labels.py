"""Labels as Kubernetes takes them.

Docker takes any label value; Kubernetes takes at most 63 characters of `[A-Za-z0-9._-]`, starting
and ending with a letter or digit. A value that does not fit (a performer id is longer) is
replaced in the label by a digest of it, and kept whole in an annotation under the same key, so
selectors still match exactly and what the executor reads back is what it wrote.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

__all__ = [
    "AVS_LABEL",
    "PERFORMER_LABEL",
    "label_selector",
    "label_value",
    "labels_and_annotations",
    "original_labels",
]

AVS_LABEL = "hourglass.eigenlayer.io/avs"
PERFORMER_LABEL = "hourglass.eigenlayer.io/performer"
"""Upstream's hourglass-operator labels, set as well so its tools find our pods."""

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_KEY = re.compile(rf"([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_NAME}")
_VALUE = re.compile(rf"({_NAME})?")
_DIGEST_PREFIX = "sha256-"


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"{key!r} is not a Kubernetes label key")
    return key


def label_value(value: str) -> str:
    """The value as a label: itself when Kubernetes takes it, else a digest of it."""
    if _VALUE.fullmatch(value) and not value.startswith(_DIGEST_PREFIX):
        return value
    return _DIGEST_PREFIX + hashlib.sha256(value.encode("utf-8")).hexdigest()[:56]


def labels_and_annotations(labels: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The labels to set, and the annotations that keep every value whole."""
    as_labels = {_check_key(key): label_value(value) for key, value in labels.items()}
    return as_labels, dict(labels)


def label_selector(labels: Mapping[str, str]) -> str:
    """A selector matching objects that carry every one of `labels`."""
    if not labels:
        raise ValueError("a label selector needs at least one label")
    return ",".join(f"{_check_key(key)}={label_value(value)}" for key, value in labels.items())


def original_labels(
    labels: Mapping[str, str] | None, annotations: Mapping[str, str] | None
) -> dict[str, str]:
    """The labels as they were given: the annotation wins where it matches the label."""
    labels = labels or {}
    annotations = annotations or {}
    result = dict(labels)
    for key, value in labels.items():
        whole = annotations.get(key)
        if whole is not None and label_value(whole) == value:
            result[key] = whole
    return result
