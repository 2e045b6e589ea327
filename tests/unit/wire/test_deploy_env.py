"""DeployArtifact's `env` and `kubernetes` into domain values, and ListPerformers' digest field."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.grpc._requests import parse_env, refuse_kubernetes
from executor_adapters.grpc.executor_service import performer_message
from executor_core.errors import InvalidArgument
from executor_core.performer_env import MAX_ENTRIES, MAX_NAME_LENGTH, RequestedEnv
from executor_core.performers import (
    EnvReference,
    EnvSource,
    PerformerId,
    PerformerImage,
    PerformerStatus,
    PerformerView,
)
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from tests.unit.core.conftest import AVS

POSIX_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DIGEST = "sha256:" + "cd" * 32


def test_every_kind_of_entry_becomes_a_requested_variable() -> None:
    entries = [
        pb.PerformerEnv(name="A", value="1"),
        pb.PerformerEnv(name="B", value_from_env="EXECUTOR_B"),
        pb.PerformerEnv(name="C"),
    ]
    assert parse_env(entries) == (
        RequestedEnv(name="A", value="1"),
        RequestedEnv(name="B", value_from_env="EXECUTOR_B"),
        RequestedEnv(name="C"),
    )


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (pb.PerformerEnv(value="x"), "env[1].name"),
        (pb.PerformerEnv(name="9LIVES"), "env[1].name"),
        (pb.PerformerEnv(name="A", value="a\0b"), "env[1].value"),
        (pb.PerformerEnv(name="A", value="x" * (32 * 1024 + 1)), "env[1].value"),
        (pb.PerformerEnv(name="A", value_from_env="has space"), "env[1].value_from_env"),
        (pb.PerformerEnv(name="A", value="x", value_from_env="B"), "env[1]"),
        (
            pb.PerformerEnv(
                name="A",
                kubernetes_env=pb.KubernetesEnv(
                    value_from=pb.EnvValueFrom(secret_key_ref=pb.SecretKeyRef(name="s", key="k"))
                ),
            ),
            "env[1].kubernetes_env",
        ),
        (pb.PerformerEnv(name="OK"), "env[1].name"),  # the name of env[0] again
    ],
)
def test_a_bad_entry_is_an_invalid_argument_naming_its_field(
    entry: pb.PerformerEnv, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_env([pb.PerformerEnv(name="OK"), entry])
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert "a\0b" not in str(caught.value)


def test_more_entries_than_allowed_are_refused_before_any_is_read() -> None:
    entries = [pb.PerformerEnv(name="1BAD")] * (MAX_ENTRIES + 1)
    with pytest.raises(InvalidArgument, match=r"^env: has 257 entries; at most 256"):
        parse_env(entries)


def test_kubernetes_settings_are_refused_in_docker_mode() -> None:
    refuse_kubernetes(None)
    with pytest.raises(InvalidArgument) as caught:
        refuse_kubernetes(pb.KubernetesConfig(service_account_name="avs"))
    assert str(caught.value) == (
        "kubernetes: needs deploymentMode kubernetes; this executor runs performers on Docker"
    )


def kubernetes_env(
    secret: pb.SecretKeyRef | None = None, config_map: pb.ConfigMapKeyRef | None = None
) -> pb.KubernetesEnv:
    return pb.KubernetesEnv(
        value_from=pb.EnvValueFrom(secret_key_ref=secret, config_map_key_ref=config_map)
    )


def test_a_kubernetes_env_is_refused_on_docker_saying_which_mode_it_needs() -> None:
    entry = pb.PerformerEnv(name="S", kubernetes_env=kubernetes_env(pb.SecretKeyRef("s", "k")))
    with pytest.raises(InvalidArgument) as caught:
        parse_env([entry])
    assert str(caught.value) == (
        "env[0].kubernetes_env: needs deploymentMode kubernetes; this executor runs performers "
        "on Docker"
    )


def test_in_kubernetes_mode_a_kubernetes_env_becomes_a_secret_or_config_map_reference() -> None:
    entries = [
        pb.PerformerEnv(name="A", value="1"),
        pb.PerformerEnv(name="S", kubernetes_env=kubernetes_env(pb.SecretKeyRef("sec", "k1"))),
        pb.PerformerEnv(
            name="C", kubernetes_env=kubernetes_env(config_map=pb.ConfigMapKeyRef("cfg", "k2"))
        ),
    ]
    assert parse_env(entries, kubernetes=True) == (
        RequestedEnv(name="A", value="1"),
        RequestedEnv(name="S", reference=EnvReference("S", EnvSource.SECRET, "sec", "k1")),
        RequestedEnv(name="C", reference=EnvReference("C", EnvSource.CONFIG_MAP, "cfg", "k2")),
    )


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (pb.PerformerEnv(name="S", value="x", kubernetes_env=kubernetes_env(
            pb.SecretKeyRef("s", "k"))), "env[1]"),
        (pb.PerformerEnv(name="S", value_from_env="X", kubernetes_env=kubernetes_env(
            pb.SecretKeyRef("s", "k"))), "env[1]"),
        (pb.PerformerEnv(kubernetes_env=kubernetes_env(pb.SecretKeyRef("s", "k"))),
         "env[1].name"),
        (pb.PerformerEnv(name="9S", kubernetes_env=kubernetes_env(pb.SecretKeyRef("s", "k"))),
         "env[1].name"),
        (pb.PerformerEnv(name="S", kubernetes_env=pb.KubernetesEnv()),
         "env[1].kubernetes_env.value_from"),
        (pb.PerformerEnv(name="S", kubernetes_env=kubernetes_env()),
         "env[1].kubernetes_env.value_from"),
        (pb.PerformerEnv(name="S", kubernetes_env=kubernetes_env(
            pb.SecretKeyRef("s", "k"), pb.ConfigMapKeyRef("c", "k"))),
         "env[1].kubernetes_env.value_from"),
        (pb.PerformerEnv(name="S", kubernetes_env=kubernetes_env(pb.SecretKeyRef(key="k"))),
         "env[1].kubernetes_env.value_from.secret_key_ref.name"),
        (pb.PerformerEnv(name="S", kubernetes_env=kubernetes_env(
            config_map=pb.ConfigMapKeyRef(name="c"))),
         "env[1].kubernetes_env.value_from.config_map_key_ref.key"),
        (pb.PerformerEnv(name="S", kubernetes_env=kubernetes_env(pb.SecretKeyRef("S_X", "k"))),
         "env[1].kubernetes_env.value_from.secret_key_ref.name"),
        (pb.PerformerEnv(name="S", kubernetes_env=kubernetes_env(pb.SecretKeyRef("s", "a b"))),
         "env[1].kubernetes_env.value_from.secret_key_ref.key"),
        (pb.PerformerEnv(name="OK", kubernetes_env=kubernetes_env(pb.SecretKeyRef("s", "k"))),
         "env[1].name"),
    ],
)  # fmt: skip
def test_in_kubernetes_mode_a_bad_kubernetes_env_is_an_invalid_argument_naming_its_field(
    entry: pb.PerformerEnv, field: str
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_env([pb.PerformerEnv(name="OK"), entry], kubernetes=True)
    assert caught.value.field == field


def test_in_kubernetes_mode_only_the_configured_service_account_may_be_asked_for() -> None:
    refuse_kubernetes(None, service_account="avs-sa")
    refuse_kubernetes(pb.KubernetesConfig(service_account_name="avs-sa"), service_account="avs-sa")
    refuse_kubernetes(pb.KubernetesConfig(), service_account="avs-sa")  # asks for nothing
    with pytest.raises(InvalidArgument) as caught:
        refuse_kubernetes(pb.KubernetesConfig(service_account_name="x"), service_account="")
    assert caught.value.field == "kubernetes.service_account_name"
    assert str(caught.value) == (
        "kubernetes.service_account_name: a deployment cannot choose the pods' service account "
        "('x'); set avsPerformers[].kubernetes.serviceAccountName in the config (this AVS has "
        "none)"
    )


NAME_LIKE = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="AZaz09_-=. \0é", max_size=20),
    st.from_regex(POSIX_NAME, fullmatch=True),
    st.integers(MAX_NAME_LENGTH - 2, MAX_NAME_LENGTH + 2).map(lambda n: "A" * n),
)


@given(name=NAME_LIKE)
def test_a_name_is_accepted_exactly_when_it_is_a_posix_name_of_bounded_length(name: str) -> None:
    entries = [pb.PerformerEnv(name=name, value="v")]
    if POSIX_NAME.fullmatch(name) and len(name) <= MAX_NAME_LENGTH:
        assert parse_env(entries) == (RequestedEnv(name=name, value="v"),)
        return
    with pytest.raises(InvalidArgument) as caught:
        parse_env(entries)
    assert caught.value.field == "env[0].name"


@given(
    names=st.lists(st.from_regex(r"[A-Z_][A-Z0-9_]{0,3}", fullmatch=True), min_size=1, max_size=8)
)
def test_the_first_repeated_name_is_reported_at_its_second_place(names: list[str]) -> None:
    entries = [pb.PerformerEnv(name=name) for name in names]
    repeat = next((i for i, name in enumerate(names) if name in names[:i]), None)
    if repeat is None:
        assert [e.name for e in parse_env(entries)] == names
        return
    with pytest.raises(InvalidArgument) as caught:
        parse_env(entries)
    assert caught.value.field == f"env[{repeat}].name"


def view(image: PerformerImage, digest: str) -> PerformerView:
    return PerformerView(
        performer_id=PerformerId("performer-1"),
        avs_address=AVS,
        status=PerformerStatus.IN_SERVICE,
        image=image,
        container_id="c" * 64,
        resource_healthy=True,
        application_healthy=True,
        last_health_check=datetime(2025, 6, 20, tzinfo=UTC),
        digest=digest,
    )


@pytest.mark.parametrize(
    ("image", "digest", "g1", "g2"),
    [
        # deployed by tag, pulled from a registry: the registry's digest in both
        (PerformerImage("127.0.0.1:5000/avs", tag="v1"), DIGEST, (DIGEST, "v1"), (DIGEST, "v1")),
        # built locally, no digest known: G1 shows the tag as upstream did, G2 leaves it empty
        (PerformerImage("avs", tag="latest"), "", ("latest", "latest"), ("", "latest")),
        # deployed by digest
        (PerformerImage("127.0.0.1:5000/avs", digest=DIGEST), DIGEST, (DIGEST, ""), (DIGEST, "")),
    ],
)
def test_list_performers_reports_the_real_digest_and_the_tag(
    image: PerformerImage, digest: str, g1: tuple[str, str], g2: tuple[str, str]
) -> None:
    first = performer_message(view(image, digest))
    second = performer_message(view(image, digest), second_generation=True)
    assert (first.artifact_digest, first.artifact_tag) == g1
    assert (second.artifact_digest, second.artifact_tag) == g2
    assert first.artifact_registry == second.artifact_registry == image.repository
