"""Performer environment variables of a deployment: the checks, the allowlist, the merge rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_core.errors import ExecutorVariableUnset, InvalidArgument, ManagementRefused
from executor_core.performer_env import (
    MAX_ENTRIES,
    MAX_NAME_LENGTH,
    MAX_TOTAL_BYTES,
    MAX_VALUE_BYTES,
    EnvProblem,
    RequestedEnv,
    check_requested,
    merged,
    merged_with_references,
    references,
    resolve,
)
from executor_core.performers import Env, EnvReference, EnvSource, PerformerImage, Release

NAMES = st.from_regex(r"[A-Z_][A-Z0-9_]{0,6}", fullmatch=True)
ENVS = st.lists(st.tuples(NAMES, st.text(max_size=5)), max_size=6, unique_by=lambda p: p[0]).map(
    tuple
)


def test_a_requested_value_is_never_in_a_repr() -> None:
    entry = RequestedEnv(name="API_KEY", value="s3cr3t")
    release = Release(PerformerImage("registry.local/avs", tag="v1"), (("API_KEY", "s3cr3t"),))
    assert "s3cr3t" not in repr(entry)
    assert "s3cr3t" not in repr(release)


@pytest.mark.parametrize(
    ("kwargs", "field", "problem"),
    [
        ({"name": ""}, "name", "is required"),
        ({"name": "1A"}, "name", "must be an environment variable name"),
        ({"name": "A-B"}, "name", "must be an environment variable name"),
        ({"name": "A" * (MAX_NAME_LENGTH + 1)}, "name", "at most 256"),
        ({"name": "A", "value": "a\0b"}, "value", "NUL"),
        ({"name": "A", "value": "é" * (MAX_VALUE_BYTES // 2 + 1)}, "value", "at most 32768"),
        ({"name": "A", "value_from_env": "NOT-A-NAME"}, "value_from_env", "must be"),
        ({"name": "A", "value": "x", "value_from_env": "B"}, "", "at most one of value"),
    ],
)
def test_a_malformed_variable_names_its_attribute(
    kwargs: dict[str, str], field: str, problem: str
) -> None:
    with pytest.raises(EnvProblem) as caught:
        RequestedEnv(**kwargs)
    assert caught.value.field == field
    assert problem in caught.value.problem
    assert "a\0b" not in str(caught.value)


def test_the_largest_value_and_the_longest_name_are_accepted() -> None:
    RequestedEnv(name="A" * MAX_NAME_LENGTH, value="x" * MAX_VALUE_BYTES)
    RequestedEnv(name="EMPTY")  # neither value nor value_from_env: the empty value


def test_a_name_given_twice_names_the_second_entry() -> None:
    env = [RequestedEnv(name="A"), RequestedEnv(name="B"), RequestedEnv(name="A", value="x")]
    with pytest.raises(InvalidArgument) as caught:
        check_requested(env)
    assert caught.value.field == "env[2].name"
    assert "first as env[0]" in caught.value.problem


def test_too_many_or_too_large_variables_are_refused_as_a_whole() -> None:
    with pytest.raises(InvalidArgument, match=r"^env: has 257 entries"):
        check_requested([RequestedEnv(name=f"V{n}") for n in range(MAX_ENTRIES + 1)])
    big = "x" * MAX_VALUE_BYTES
    count = MAX_TOTAL_BYTES // MAX_VALUE_BYTES
    check_requested([RequestedEnv(name=f"V{n}", value=big[:-4]) for n in range(count)])
    with pytest.raises(InvalidArgument, match=r"^env: is \d+ bytes in all"):
        check_requested([RequestedEnv(name=f"V{n}", value=big) for n in range(count)])


def test_value_from_env_copies_only_allowed_variables_that_are_set() -> None:
    env = [RequestedEnv(name="A", value="1"), RequestedEnv(name="KEY", value_from_env="API_KEY")]
    assert resolve(env, allowed=frozenset({"API_KEY"}), environment={"API_KEY": "k"}) == (
        ("A", "1"),
        ("KEY", "k"),
    )
    with pytest.raises(ManagementRefused) as refused:
        resolve(env, allowed=frozenset(), environment={"API_KEY": "k"})
    assert str(refused.value).startswith("env[1].value_from_env: ")
    assert "management.allowedValueFromEnv" in str(refused.value)
    with pytest.raises(ExecutorVariableUnset, match=r"^env\[1\]\.value_from_env: API_KEY is"):
        resolve(env, allowed=frozenset({"API_KEY"}), environment={})


def test_a_refused_copy_does_not_tell_whether_the_variable_is_set() -> None:
    env = [RequestedEnv(name="KEY", value_from_env="API_KEY")]
    messages = []
    for environment in ({}, {"API_KEY": "k"}):
        with pytest.raises(ManagementRefused) as refused:
            resolve(env, allowed=frozenset({"OTHER"}), environment=environment)
        messages.append(str(refused.value))
    assert messages[0] == messages[1]


def test_every_copy_is_checked_against_the_list_before_any_variable_is_read() -> None:
    env = [
        RequestedEnv(name="A", value_from_env="ALLOWED_BUT_UNSET"),
        RequestedEnv(name="B", value_from_env="NOT_ALLOWED"),
    ]
    with pytest.raises(ManagementRefused, match=r"^env\[1\]\.value_from_env: "):
        resolve(env, allowed=frozenset({"ALLOWED_BUT_UNSET"}), environment={})


def test_the_request_replaces_configured_variables_in_place_and_adds_the_others() -> None:
    base = (("LOG_LEVEL", "info"), ("MODE", "a"), ("REGION", "eu"))
    overrides = (("NEW", "1"), ("MODE", "b"))
    assert merged(base, overrides) == (
        ("LOG_LEVEL", "info"),
        ("MODE", "b"),
        ("REGION", "eu"),
        ("NEW", "1"),
    )


@given(base=ENVS, overrides=ENVS)
def test_merged_gives_every_name_once_with_the_request_winning(
    base: tuple[tuple[str, str], ...], overrides: tuple[tuple[str, str], ...]
) -> None:
    result = merged(base, overrides)
    names = [name for name, _ in result]
    assert len(names) == len(set(names))
    assert dict(result) == dict(base) | dict(overrides)
    assert names[: len(base)] == [name for name, _ in base]


def ref(name: str, key: str = "k") -> EnvReference:
    return EnvReference(name, EnvSource.SECRET, "avs-secrets", key)


def test_a_reference_is_resolved_by_kubernetes_not_by_the_executor() -> None:
    env = [RequestedEnv(name="A", value="1"), RequestedEnv(name="S", reference=ref("S"))]
    assert resolve(env, allowed=frozenset(), environment={}) == (("A", "1"),)
    assert references(env) == (ref("S"),)


def test_a_reference_is_the_variables_only_source() -> None:
    with pytest.raises(EnvProblem, match="cannot be combined with value or value_from_env"):
        RequestedEnv(name="S", value="x", reference=ref("S"))
    with pytest.raises(EnvProblem, match="cannot be combined"):
        RequestedEnv(name="S", value_from_env="X", reference=ref("S"))
    with pytest.raises(EnvProblem) as caught:
        RequestedEnv(name="S", reference=ref("OTHER"))
    assert caught.value.field == "reference"


def test_a_requested_variable_replaces_the_configured_one_of_its_name_whatever_its_kind() -> None:
    base = (("LOG_LEVEL", "info"), ("MODE", "a"))
    base_references = (ref("API_KEY"), ref("TOKEN"))
    env, found = merged_with_references(
        base, base_references, (("API_KEY", "plain"), ("NEW", "1")), (ref("MODE", "m"),)
    )
    assert env == (("LOG_LEVEL", "info"), ("API_KEY", "plain"), ("NEW", "1"))
    assert found == (ref("TOKEN"), ref("MODE", "m"))
    env, found = merged_with_references(base, base_references, (), (ref("TOKEN", "new"),))
    assert (env, found) == (base, (ref("API_KEY"), ref("TOKEN", "new")))


KINDS = st.lists(
    st.tuples(NAMES, st.booleans(), st.text("ab", max_size=2)), max_size=6, unique_by=lambda e: e[0]
)


def split(entries: list[tuple[str, bool, str]]) -> tuple[Env, tuple[EnvReference, ...]]:
    """Entries `(name, is_reference, value)` as plain variables and references."""
    env = tuple((name, value) for name, is_ref, value in entries if not is_ref)
    found = tuple(ref(name, value or "k") for name, is_ref, value in entries if is_ref)
    return env, found


@given(configured=KINDS, requested=KINDS)
def test_every_name_ends_up_once_with_the_request_winning_whatever_the_kinds(
    configured: list[tuple[str, bool, str]], requested: list[tuple[str, bool, str]]
) -> None:
    env, found = merged_with_references(*split(configured), *split(requested))
    names = [name for name, _ in env] + [r.name for r in found]
    assert len(names) == len(set(names))
    expected: dict[str, object] = {}
    for entries in (configured, requested):
        plain, referenced = split(entries)
        expected |= dict(plain) | {r.name: r for r in referenced}
    assert dict(env) | {r.name: r for r in found} == expected
