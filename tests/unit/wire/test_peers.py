"""Which gRPC peers count as this host, for the management API's loopback-only rule."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.grpc.peers import is_local_peer


@pytest.mark.parametrize(
    "peer",
    [
        "ipv4:127.0.0.1:50000",
        "ipv4:127.3.4.5:1",
        "ipv6:[::1]:50000",
        "ipv6:[::ffff:127.0.0.1]:50000",
        "unix:/run/executor.sock",
        "unix-abstract:executor",
    ],
)
def test_loopback_and_unix_peers_are_local(peer: str) -> None:
    assert is_local_peer(peer)


@pytest.mark.parametrize(
    "peer",
    [
        "ipv4:10.0.0.7:50000",
        "ipv4:192.168.1.2:443",
        "ipv6:[2001:db8::1]:50000",
        "ipv6:[::ffff:10.0.0.1]:50000",
        "ipv4:0.0.0.0:1",
        "",
        "ipv4:",
        "ipv4:localhost:80",
        "ipv6:not-an-address:1",
        "tcp:127.0.0.1:80",
    ],
)
def test_other_and_unreadable_peers_are_not_local(peer: str) -> None:
    assert not is_local_peer(peer)


@given(st.ip_addresses(v=4), st.integers(min_value=1, max_value=65535))
def test_an_ipv4_peer_is_local_exactly_when_it_is_loopback(
    address: ipaddress.IPv4Address, port: int
) -> None:
    assert is_local_peer(f"ipv4:{address}:{port}") == address.is_loopback


@given(st.ip_addresses(v=6), st.integers(min_value=1, max_value=65535))
def test_an_ipv6_peer_is_local_exactly_when_it_is_loopback(
    address: ipaddress.IPv6Address, port: int
) -> None:
    mapped = address.ipv4_mapped
    expected = mapped.is_loopback if mapped is not None else address.is_loopback
    assert is_local_peer(f"ipv6:[{address}]:{port}") == expected


@given(st.text(max_size=60))
def test_any_text_gets_an_answer_without_raising(peer: str) -> None:
    assert is_local_peer(peer) in (True, False)
