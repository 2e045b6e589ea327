"""Where a gRPC call came from, as grpc names its peer (`ipv4:127.0.0.1:5000`, `ipv6:[::1]:5000`,
`unix:/run/x.sock`), and whether that is this host."""

from __future__ import annotations

import ipaddress

__all__ = ["is_local_peer"]


def is_local_peer(peer: str) -> bool:
    """True for a loopback address (127.0.0.0/8, ::1, or ::ffff:127.x) or a Unix socket.

    Anything that cannot be read as one of these is not local: the check refuses what it does
    not understand.
    """
    scheme, _, rest = peer.partition(":")
    if scheme in ("unix", "unix-abstract"):
        return True
    if scheme == "ipv4":
        host = rest.rpartition(":")[0]
    elif scheme == "ipv6":
        host = rest.rpartition(":")[0].removeprefix("[").removesuffix("]")
        host = host.partition("%")[0]
    else:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
