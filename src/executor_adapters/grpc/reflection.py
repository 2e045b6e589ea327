"""Make our betterproto2 services visible to gRPC reflection (`grpcurl list` / `describe`).

betterproto2 messages do not register descriptors with protobuf, so the descriptor set that
`make proto` writes beside them is loaded into protobuf's default pool here.
"""

from __future__ import annotations

from importlib import resources

from google.protobuf import descriptor_pb2, descriptor_pool


def register_descriptors() -> None:
    """Add our proto files to the default descriptor pool; files already there are skipped."""
    data = resources.files("hourglass_proto").joinpath("descriptors.binpb").read_bytes()
    file_set = descriptor_pb2.FileDescriptorSet.FromString(data)
    pool = descriptor_pool.Default()
    for file_proto in file_set.file:
        try:
            pool.FindFileByName(file_proto.name)
        except KeyError:
            pool.Add(file_proto)
