"""Simulated aggregator peers: from the config, and from a peers file that may change."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.peering import simulated
from executor_adapters.peering.simulated import (
    AggregatorPeer,
    PeersFileError,
    SimulatedAggregatorKeys,
    parse_peers,
    peers_file_text,
)
from executor_core.addresses import Address, AvsAddress

AVS = AvsAddress.parse("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")
AGG = Address.parse("0x90f79bf6eb2c4f870365e785982e1f101e93b906")
KEY_A, KEY_B = bytes(range(128)), bytes(range(1, 129))


async def test_every_operator_set_key_of_the_aggregator_is_returned() -> None:
    keys = SimulatedAggregatorKeys([AggregatorPeer(AGG, KEY_A, 0), AggregatorPeer(AGG, KEY_B, 1)])
    assert await keys.keys_for(AVS, AGG) == (KEY_A, KEY_B)
    assert await keys.keys_for(AVS, Address.parse("0x" + "11" * 20)) == ()


async def test_the_peers_file_is_read_again_when_it_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulated, "RECHECK_SECONDS", 0.0)
    path = tmp_path / "peers.json"
    path.write_text(peers_file_text([AggregatorPeer(AGG, KEY_A)]))
    keys = SimulatedAggregatorKeys([], peers_file=path)
    assert await keys.keys_for(AVS, AGG) == (KEY_A,)
    path.write_text(peers_file_text([AggregatorPeer(AGG, KEY_B), AggregatorPeer(AGG, KEY_A)]))
    later = time.time() + 5
    os.utime(path, (later, later))
    assert await keys.keys_for(AVS, AGG) == (KEY_B, KEY_A)


async def test_a_broken_peers_file_keeps_the_last_good_peers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(simulated, "RECHECK_SECONDS", 0.0)
    path = tmp_path / "peers.yaml"
    path.write_text(peers_file_text([AggregatorPeer(AGG, KEY_A)]))
    keys = SimulatedAggregatorKeys([], peers_file=path)
    path.write_text("[{operatorAddress: nope}]")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert await keys.keys_for(AVS, AGG) == (KEY_A,)


def test_a_broken_peers_file_at_start_is_an_error_naming_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "peers.yaml"
    path.write_text(f"- operatorAddress: '{AGG.value}'\n  publicKey: abcd\n")
    with pytest.raises(PeersFileError, match=r"\[0\]\.publicKey"):
        SimulatedAggregatorKeys([], peers_file=path)


@given(
    st.lists(
        st.tuples(
            st.binary(min_size=20, max_size=20),
            st.binary(min_size=128, max_size=128),
            st.integers(0, 2**32 - 1),
        ),
        max_size=5,
    )
)
def test_peers_written_to_a_file_read_back_the_same(
    entries: list[tuple[bytes, bytes, int]],
) -> None:
    peers = [AggregatorPeer(Address.parse("0x" + a.hex()), k, s) for a, k, s in entries]
    assert parse_peers(peers_file_text(peers), source="peers") == peers


@given(st.text(max_size=200))
def test_any_text_either_parses_or_gives_a_peers_file_error(text: str) -> None:
    problem = ""
    try:
        parse_peers(text, source="peers")
    except PeersFileError as exc:
        problem = str(exc)
    assert problem == "" or problem.startswith("peers")
