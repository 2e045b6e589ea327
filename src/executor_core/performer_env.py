"""Performer environment variables a DeployArtifact asks for: their checks, and their values.

A deployment's performer gets the AVS's configured variables (`avsPerformers[].envs`), with
the request's variables of the same name replacing them, and the request's other variables
after them (`merged`). A request variable either carries its value or names a variable of the
executor's own environment to copy (`value_from_env`); copying one is allowed only for the
names on `management.allowedValueFromEnv`, since whoever deploys an image could otherwise read
every secret the executor holds (reference §8 item 15). In Kubernetes mode a variable may
instead be a `reference` to a Secret's or ConfigMap's key, which Kubernetes reads when it starts
the pod; a requested variable replaces the configured one of its name whatever the kind of
either (`merged_with_references`).

Limits of one request, so that a request cannot make a container the kernel cannot exec (Linux
takes at most 128 KiB per variable and about 2 MiB in all) nor one the engine must carry for
no reason:

- at most `MAX_ENTRIES` (256) variables, each name given once;
- a name is `[A-Za-z_][A-Za-z0-9_]*`, at most `MAX_NAME_LENGTH` (256) characters;
- a value is at most `MAX_VALUE_BYTES` (32 KiB) of UTF-8 and holds no NUL character;
- all `NAME=value` pairs together are at most `MAX_TOTAL_BYTES` (256 KiB).

Values may be secrets: no repr, event or error message carries one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs

from executor_core.errors import ExecutorVariableUnset, InvalidArgument, ManagementRefused
from executor_core.performers import Env, EnvReference

__all__ = [
    "ENV_NAME",
    "MAX_ENTRIES",
    "MAX_NAME_LENGTH",
    "MAX_TOTAL_BYTES",
    "MAX_VALUE_BYTES",
    "EnvProblem",
    "RequestedEnv",
    "check_requested",
    "merged",
    "merged_with_references",
    "name_problem",
    "references",
    "resolve",
]

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME_LENGTH = 256
MAX_VALUE_BYTES = 32 * 1024
MAX_ENTRIES = 256
MAX_TOTAL_BYTES = 256 * 1024


class EnvProblem(ValueError):
    """A requested variable is malformed; `field` is its attribute, or "" for the whole entry."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


def name_problem(name: str) -> str | None:
    """What is wrong with `name` as an environment variable name, or None."""
    if not name:
        return "is required"
    if len(name) > MAX_NAME_LENGTH:
        return f"is {len(name)} characters long; at most {MAX_NAME_LENGTH} are allowed"
    if not ENV_NAME.fullmatch(name):
        return "must be an environment variable name (letters, digits, _; no leading digit)"
    return None


def _check_name(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    problem = name_problem(value)
    if problem is not None:
        raise EnvProblem(attribute.name, problem)


def _check_source(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if value:
        _check_name(_, attribute, value)


def _check_value(_: object, attribute: attrs.Attribute[str], value: str) -> None:
    if "\0" in value:
        raise EnvProblem(attribute.name, "must not contain NUL characters")
    size = len(value.encode("utf-8", "surrogatepass"))
    if size > MAX_VALUE_BYTES:
        raise EnvProblem(
            attribute.name, f"is {size} bytes long; at most {MAX_VALUE_BYTES} are allowed"
        )


@attrs.frozen
class RequestedEnv:
    """One variable a deployment asks for: its value, the executor variable to copy, or the
    Secret or ConfigMap key Kubernetes fills it from.

    None of them gives the empty value (`NAME=`), as upstream does.
    """

    name: str = attrs.field(validator=_check_name)
    value: str = attrs.field(default="", validator=_check_value, repr=False)
    value_from_env: str = attrs.field(default="", validator=_check_source)
    """The name of a variable of the executor's environment whose value the performer gets."""
    reference: EnvReference | None = None
    """Kubernetes mode: where Kubernetes reads the value from; its name is `name`."""

    def __attrs_post_init__(self) -> None:
        if self.value and self.value_from_env:
            raise EnvProblem("", "give at most one of value, value_from_env")
        if self.reference is not None:
            if self.value or self.value_from_env:
                raise EnvProblem("", "a reference cannot be combined with value or value_from_env")
            if self.reference.name != self.name:
                raise EnvProblem("reference", f"must be a reference for {self.name}")


def check_requested(env: Sequence[RequestedEnv]) -> None:
    """Refuse a request's variables beyond the limits, or a name given twice.

    Raises:
        InvalidArgument: naming `env`, or the repeated name's `env[i].name`.
    """
    if len(env) > MAX_ENTRIES:
        raise InvalidArgument("env", f"has {len(env)} entries; at most {MAX_ENTRIES} are allowed")
    first: dict[str, int] = {}
    for index, entry in enumerate(env):
        if entry.name in first:
            raise InvalidArgument(
                f"env[{index}].name",
                f"{entry.name} is given more than once (first as env[{first[entry.name]}])",
            )
        first[entry.name] = index
    total = sum(
        len(e.name.encode()) + 1 + len(e.value.encode("utf-8", "surrogatepass")) for e in env
    )
    if total > MAX_TOTAL_BYTES:
        raise InvalidArgument(
            "env", f"is {total} bytes in all; at most {MAX_TOTAL_BYTES} are allowed"
        )


def resolve(
    env: Sequence[RequestedEnv], *, allowed: frozenset[str], environment: Mapping[str, str]
) -> Env:
    """The request's variables with their values, copied ones read from `environment`; the
    references are `references`'s.

    Every copy is checked against `allowed` before any variable is read, so a refused request
    tells nothing about the executor's environment.

    Raises:
        InvalidArgument: the request is beyond the limits (`check_requested`).
        ManagementRefused: a variable copies an executor variable not in `allowed`.
        ExecutorVariableUnset: an allowed executor variable is not set.
    """
    check_requested(env)
    for index, entry in enumerate(env):
        source = entry.value_from_env
        if source and source not in allowed:
            raise ManagementRefused(
                f"env[{index}].value_from_env: copying the executor's variable {source} is not "
                "allowed; an operator may list it in management.allowedValueFromEnv"
            )
    resolved: list[tuple[str, str]] = []
    for index, entry in enumerate(env):
        if entry.reference is not None:
            continue
        source = entry.value_from_env
        value = environment.get(source) if source else entry.value
        if value is None:
            raise ExecutorVariableUnset(
                f"env[{index}].value_from_env: {source} is allowed but not set in the "
                "executor's environment"
            )
        resolved.append((entry.name, value))
    return tuple(resolved)


def merged(base: Env, overrides: Env) -> Env:
    """`base` with each variable `overrides` names set to its value there, then the others of
    `overrides` in their order."""
    replacing = dict(overrides)
    kept = tuple((name, replacing.pop(name, value)) for name, value in base)
    return kept + tuple((name, value) for name, value in overrides if name in replacing)


def references(env: Sequence[RequestedEnv]) -> tuple[EnvReference, ...]:
    """The request's variables that Kubernetes fills in, in their order."""
    return tuple(entry.reference for entry in env if entry.reference is not None)


def merged_with_references(
    base: Env,
    base_references: Sequence[EnvReference],
    overrides: Env,
    override_references: Sequence[EnvReference],
) -> tuple[Env, tuple[EnvReference, ...]]:
    """The configured variables (`base`, `base_references`) with a deployment's over them: a
    requested variable replaces the configured one of its name, whether either is a value or
    a reference, in its place; the other requested ones follow, each kind in its order."""
    referenced = {reference.name for reference in override_references}
    env = tuple((name, value) for name, value in merged(base, overrides) if name not in referenced)
    valued = {name for name, _ in overrides}
    replacing = {reference.name: reference for reference in override_references}
    kept = tuple(
        replacing.pop(reference.name, reference)
        for reference in base_references
        if reference.name not in valued
    )
    return env, kept + tuple(r for r in override_references if r.name in replacing)
