"""Which endpoint a pod gets: its Service's DNS name in the cluster, an override, or a
loopback port-forward outside it. No API call is needed to tell (the client is never made)."""

from __future__ import annotations

import pytest

from executor_adapters.kubernetes import ClusterSettings, KubernetesContainerRuntime, PerformerReach
from executor_adapters.kubernetes.settings import parse_endpoint
from executor_core.performers import Endpoint


async def test_in_the_cluster_a_pod_is_reached_by_its_service_name() -> None:
    runtime = KubernetesContainerRuntime(ClusterSettings(namespace="avs", in_cluster=True))

    endpoint = await runtime._endpoint("avs-performer-abcdef-0123456789ab", None)

    assert endpoint == Endpoint("performer-avs-performer-abcdef-0123456789ab.avs.svc", 8080)


async def test_an_override_wins_over_every_reach() -> None:
    override = Endpoint("performer.example", 443)
    for reach in PerformerReach:
        runtime = KubernetesContainerRuntime(ClusterSettings(reach=reach))

        assert await runtime._endpoint("p", override) == override


def test_outside_the_cluster_the_default_is_port_forward() -> None:
    assert ClusterSettings().performer_reach is PerformerReach.PORT_FORWARD
    assert ClusterSettings(in_cluster=True).performer_reach is PerformerReach.SERVICE
    assert (
        ClusterSettings(in_cluster=True, reach=PerformerReach.PORT_FORWARD).performer_reach
        is PerformerReach.PORT_FORWARD
    )


@pytest.mark.parametrize(
    ("text", "endpoint"),
    [("h:1", Endpoint("h", 1)), ("[::1]:8080", Endpoint("::1", 8080))],
)
def test_an_override_is_host_and_port(text: str, endpoint: Endpoint) -> None:
    assert parse_endpoint(text) == endpoint


@pytest.mark.parametrize("text", ["", "host", ":80", "host:", "host:http"])
def test_an_override_without_host_and_port_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="host:port"):
        parse_endpoint(text)
