"""A deployment's environment on the in-memory adapters: merged with the AVS's, copied from the
executor only when allowed, kept through recreation and brought back by a rollback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import attrs
import pytest

from executor_adapters.config import ManagementConfig
from executor_core.errors import ExecutorVariableUnset, InvalidArgument, ManagementRefused
from executor_core.events import DeploymentRolledBack, DomainEvent, PerformerRecreated
from executor_core.executor import Executor
from executor_core.performer_env import RequestedEnv
from executor_core.performers import Env, PerformerImage, PerformerView

from .conftest import AVS, FAST_POLICY, OTHER_AVS, Harness
from .versioned import VersionedConnector

V1 = PerformerImage("registry.local/avs", tag="v1")
V2 = PerformerImage("registry.local/avs", tag="v2")
CONFIGURED: Env = (("LOG_LEVEL", "info"), ("MODE", "config"))


async def started(
    harness: Harness, *, management: ManagementConfig | None = None, probation_period: float = 0
) -> tuple[Executor, list[DomainEvent]]:
    harness.connector = VersionedConnector(harness.runtime)
    executor = harness.build(
        harness.settings(image=V1, env=CONFIGURED),
        policy=attrs.evolve(FAST_POLICY, probation_period=probation_period),
        management=management,
    )
    events: list[DomainEvent] = []
    executor.subscribe(events.append)
    await executor.start()
    return executor, events


def env_of(harness: Harness, view: PerformerView) -> Env:
    """The environment the container of a listed performer was started with."""
    return harness.runtime.containers[view.container_id].spec.env


async def eventually(condition: Callable[[], bool], timeout: float = 3) -> None:
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 - polling state the core does not signal
            await asyncio.sleep(0.01)


async def test_a_deployment_gets_the_avs_variables_with_its_own_replacing_them(
    harness: Harness,
) -> None:
    executor, _ = await started(harness)
    (configured,) = executor.list_performers()
    assert env_of(harness, configured) == CONFIGURED

    env = [RequestedEnv(name="MODE", value="request"), RequestedEnv(name="EXTRA")]
    await executor.deploy_artifact(AVS, V2, env=env)

    (deployed,) = executor.list_performers()
    assert env_of(harness, deployed) == (("LOG_LEVEL", "info"), ("MODE", "request"), ("EXTRA", ""))


async def test_a_later_deployment_without_variables_gets_the_avs_variables_only(
    harness: Harness,
) -> None:
    executor, _ = await started(harness)
    await executor.deploy_artifact(AVS, V2, env=[RequestedEnv(name="EXTRA", value="1")])
    await executor.deploy_artifact(AVS, V1)
    (view,) = executor.list_performers()
    assert env_of(harness, view) == CONFIGURED


async def test_an_avs_the_config_does_not_name_gets_the_request_variables_only(
    harness: Harness,
) -> None:
    executor, _ = await started(harness)
    image = PerformerImage("registry.local/other", digest="sha256:" + "ab" * 32)
    await executor.deploy_artifact(OTHER_AVS, image, env=[RequestedEnv(name="A", value="b")])
    (view,) = executor.list_performers(OTHER_AVS)
    assert env_of(harness, view) == (("A", "b"),)


async def test_value_from_env_copies_an_allowed_executor_variable(harness: Harness) -> None:
    harness.environ["AVS_API_KEY"] = "k-123"
    allowed = ManagementConfig(allowed_value_from_env=("AVS_API_KEY",))
    executor, _ = await started(harness, management=allowed)
    env = [RequestedEnv(name="API_KEY", value_from_env="AVS_API_KEY")]
    await executor.deploy_artifact(AVS, V2, env=env)
    (view,) = executor.list_performers()
    assert dict(env_of(harness, view))["API_KEY"] == "k-123"


async def test_value_from_env_of_a_variable_not_allowed_is_refused_and_changes_nothing(
    harness: Harness,
) -> None:
    harness.environ["OPERATOR_SECRET"] = "do-not-leak"
    executor, events = await started(harness)
    (before,) = executor.list_performers()
    env = [
        RequestedEnv(name="A", value="b"),
        RequestedEnv(name="S", value_from_env="OPERATOR_SECRET"),
    ]

    with pytest.raises(ManagementRefused) as refused:
        await executor.deploy_artifact(AVS, V2, env=env)

    message = str(refused.value)
    assert message.startswith("env[1].value_from_env: ")
    assert "management.allowedValueFromEnv" in message
    assert "do-not-leak" not in message
    assert executor.list_performers() == [before]
    assert all("do-not-leak" not in repr(event) for event in events)


async def test_value_from_env_of_an_allowed_variable_that_is_unset_fails_the_precondition(
    harness: Harness,
) -> None:
    allowed = ManagementConfig(allowed_value_from_env=("AVS_API_KEY",))
    executor, _ = await started(harness, management=allowed)
    env = [RequestedEnv(name="API_KEY", value_from_env="AVS_API_KEY")]
    with pytest.raises(ExecutorVariableUnset, match=r"^env\[0\]\.value_from_env: AVS_API_KEY"):
        await executor.deploy_artifact(AVS, V2, env=env)


async def test_a_name_given_twice_is_an_invalid_argument(harness: Harness) -> None:
    executor, _ = await started(harness)
    env = [RequestedEnv(name="A"), RequestedEnv(name="A")]
    with pytest.raises(InvalidArgument, match=r"^env\[1\]\.name: A is given more than once"):
        await executor.deploy_artifact(AVS, V2, env=env)


async def test_a_recreated_container_gets_the_same_variables(harness: Harness) -> None:
    executor, events = await started(harness)
    env = [RequestedEnv(name="TOKEN", value="t-1")]
    await executor.deploy_artifact(AVS, V2, env=env)
    (before,) = executor.list_performers()

    harness.runtime.crash(before.container_id)
    await eventually(lambda: any(isinstance(e, PerformerRecreated) for e in events))

    (after,) = executor.list_performers()
    assert after.performer_id == before.performer_id
    assert after.container_id != before.container_id
    assert env_of(harness, after) == (*CONFIGURED, ("TOKEN", "t-1"))


async def test_a_rollback_brings_back_the_previous_performers_variables(
    harness: Harness,
) -> None:
    executor, events = await started(harness, probation_period=5)
    await executor.deploy_artifact(AVS, V1, env=[RequestedEnv(name="MODE", value="old")])
    await executor.deploy_artifact(AVS, V2, env=[RequestedEnv(name="MODE", value="new")])
    (bad,) = executor.list_performers()
    assert dict(env_of(harness, bad))["MODE"] == "new"

    assert isinstance(harness.connector, VersionedConnector)
    harness.connector.clients[-1].healthy = False
    await eventually(lambda: any(isinstance(e, DeploymentRolledBack) for e in events), 5)

    (back,) = executor.list_performers()
    assert (back.image, back.performer_id != bad.performer_id) == (V1, True)
    assert env_of(harness, back) == (("LOG_LEVEL", "info"), ("MODE", "old"))


async def test_variable_values_stay_out_of_events_and_listings(harness: Harness) -> None:
    executor, events = await started(harness, probation_period=5)
    await executor.deploy_artifact(AVS, V2, env=[RequestedEnv(name="TOKEN", value="s3cr3t")])
    (view,) = executor.list_performers()
    harness.runtime.crash(view.container_id)
    await eventually(lambda: any(isinstance(e, DeploymentRolledBack) for e in events), 5)
    assert all("s3cr3t" not in repr(event) for event in events)
    assert "s3cr3t" not in repr(executor.list_performers())
