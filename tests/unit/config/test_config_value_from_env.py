"""`management.allowedValueFromEnv`: which executor variables DeployArtifact may copy."""

from __future__ import annotations

from typing import Any

import pytest

from executor_adapters.config import ConfigError
from tests.unit.config.samples import load, minimal


def management(value: Any, key: str = "allowedValueFromEnv") -> dict[str, Any]:
    return minimal() | {"management": {key: value}}


def test_none_is_allowed_by_default() -> None:
    assert load(minimal()).management.allowed_value_from_env == ()


@pytest.mark.parametrize(
    "key", ["allowedValueFromEnv", "AllowedValueFromEnv", "allowedvaluefromenv"]
)
def test_the_list_is_read_in_any_spelling(key: str) -> None:
    config = load(management(["AVS_API_KEY", "_X1"], key))
    assert config.management.allowed_value_from_env == ("AVS_API_KEY", "_X1")


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("AVS_API_KEY", "management.allowedValueFromEnv: must be a list"),
        (
            ["OK", "1BAD"],
            "management.allowedValueFromEnv: '1BAD' is not an environment variable name "
            "(letters, digits, _; no leading digit)",
        ),
        (
            [7],
            "management.allowedValueFromEnv[0]: must be a string (quote numbers and booleans)",
        ),
    ],
)
def test_a_bad_list_is_reported_at_its_key(value: Any, line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(management(value))
    assert caught.value.problems == [line]
