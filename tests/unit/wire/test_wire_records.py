"""Taking the `auth` field out of a request's bytes, as a bound signature's body digest needs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from executor_adapters.grpc.wire_records import MalformedRecords, without_field
from hourglass_proto.eigenlayer.hourglass import v1 as pb
from hourglass_proto.eigenlayer.hourglass.v1 import common

env = st.builds(pb.PerformerEnv, name=st.text(max_size=8), value=st.text(max_size=8))
requests = st.builds(
    pb.DeployArtifactRequest,
    avs_address=st.text(max_size=42),
    digest=st.text(max_size=71),
    registry_url=st.text(max_size=20),
    env=st.lists(env, max_size=3),
)
auths = st.builds(
    common.AuthSignature, challenge_token=st.text(max_size=64), signature=st.binary(max_size=96)
)


@given(requests, auths)
def test_removing_auth_gives_the_bytes_of_the_request_without_it(
    request: pb.DeployArtifactRequest, auth: common.AuthSignature
) -> None:
    unsigned = bytes(request)
    request.auth = auth
    assert without_field(bytes(request), 6) == unsigned


@given(requests, auths)
def test_auth_is_removed_wherever_it_is_placed_and_however_often(
    request: pb.DeployArtifactRequest, auth: common.AuthSignature
) -> None:
    unsigned = bytes(request)
    record = bytes(pb.DeployArtifactRequest(auth=auth))
    assert without_field(record + unsigned + record, 6) == unsigned


@given(st.binary(max_size=64))
def test_arbitrary_bytes_either_parse_or_raise_malformed_records(body: bytes) -> None:
    try:
        kept = without_field(body, 6)
    except MalformedRecords:
        return
    assert len(kept) <= len(body)


def test_a_truncated_record_is_malformed() -> None:
    body = bytes(pb.ListPerformersRequest(avs_address="0x" + "ab" * 20))
    with pytest.raises(MalformedRecords):
        without_field(body[:-1], 2)
