"""Confinement: each setting of a spec's `ContainerHardening` reaches the container, and a
performer network can be internal (no route out) while ports stay reachable on 127.0.0.1.

The contract tests read the container back: from the engine's inspect data for Docker, from
the pod's spec for Kubernetes, from the recorded spec for the fake. Kubernetes has no per-pod
pids limit or log rotation (they are the kubelet's, for every pod of the node), so for it those
fields are compared after being set to what was asked (`comparable`); every other field is
read from the pod. The Docker-only tests at the end check the engine's own field
names and values, what a process in the container can do, and the relay that publishes the
port of a performer on an internal network (`executor_adapters.docker._relay`).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable

import aiodocker
import attrs
import pytest

from executor_adapters.docker import AiodockerContainerRuntime
from executor_adapters.memory.container_runtime import InMemoryContainerRuntime
from executor_core.errors import ContainerRuntimeError, ContainerStartFailed
from executor_core.performers import MIB, ContainerHardening
from executor_core.ports import ContainerEventKind
from tests.contract.container_runtime.kubernetes_backend import (
    NETWORK_LABEL,
    NODE_LEVEL_FIELDS,
    KubeNamespace,
    hardening_from_pod,
    policy_is_internal,
)
from tests.contract.container_runtime.support import (
    EventWatch,
    ListingRuntime,
    SpecFactory,
    accepts_connection,
)

docker_backend = pytest.mark.parametrize("backend", ["docker"], indirect=True)

Observe = Callable[[str], Awaitable[ContainerHardening]]
Comparable = Callable[[ContainerHardening, ContainerHardening], ContainerHardening]

CONFINED = ContainerHardening(
    no_new_privileges=True,
    cap_add=("NET_BIND_SERVICE", "CHOWN"),
    pids_limit=128,
    memory_bytes=256 * MIB,
    cpus=0.5,
    read_only_root_filesystem=True,
    tmpfs_size_bytes=16 * MIB,
    user="65532:65532",
    log_max_size_bytes=MIB,
    log_max_files=2,
)
"""Every setting away from its default."""
_SIZE = re.compile(r"(\d+)([kmg]?)")
_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024 * MIB}


def _size(text: str) -> int:
    match = _SIZE.fullmatch(text)
    assert match is not None, text
    return int(match[1]) * _UNITS[match[2]]


def hardening_from_inspect(info: dict[str, object]) -> ContainerHardening:
    """Read a container's confinement back from `GET /containers/{id}/json`."""
    host = info["HostConfig"]
    config = info["Config"]
    assert isinstance(host, dict)
    assert isinstance(config, dict)
    assert host["CapDrop"] == ["ALL"]
    assert host.get("MemorySwap") == host.get("Memory")
    log = host["LogConfig"]
    assert log["Type"] == "json-file"
    tmpfs = host.get("Tmpfs") or {}
    read_only = bool(host["ReadonlyRootfs"])
    tmpfs_size = ContainerHardening().tmpfs_size_bytes
    if read_only:
        options = dict(o.partition("=")[::2] for o in tmpfs["/tmp"].split(","))
        tmpfs_size = int(options["size"])
    else:
        assert tmpfs == {}
    return ContainerHardening(
        no_new_privileges="no-new-privileges:true" in (host.get("SecurityOpt") or ()),
        cap_add=tuple(host.get("CapAdd") or ()),
        pids_limit=host.get("PidsLimit") or 0,
        memory_bytes=host.get("Memory") or 0,
        cpus=(host.get("NanoCpus") or 0) / 1e9,
        read_only_root_filesystem=read_only,
        tmpfs_size_bytes=tmpfs_size,
        user=config.get("User") or "",
        log_max_size_bytes=_size(log["Config"]["max-size"]),
        log_max_files=int(log["Config"]["max-file"]),
    )


@pytest.fixture
def observe(
    runtime: ListingRuntime, engine: aiodocker.Docker | None, kube: KubeNamespace | None
) -> Observe:
    """Read back how a started container is confined."""
    if kube is not None:
        namespace = kube

        async def from_pod(container_id: str) -> ContainerHardening:
            return hardening_from_pod(await namespace.pod(container_id))

        return from_pod
    if engine is None:
        assert isinstance(runtime, InMemoryContainerRuntime)
        memory = runtime

        async def from_record(container_id: str) -> ContainerHardening:
            return memory.containers[container_id].spec.hardening

        return from_record
    docker = engine

    async def from_engine(container_id: str) -> ContainerHardening:
        return hardening_from_inspect(await docker.containers.container(container_id).show())

    return from_engine


@pytest.fixture
def comparable(kube: KubeNamespace | None) -> Comparable:
    """What of a container's confinement, as observed, can be compared with what was asked.

    All of it for Docker and the fake. For Kubernetes, the pids limit and log rotation are set
    on the node's kubelet (`podPidsLimit`, `containerLogMaxSize`, `containerLogMaxFiles`) for
    every pod and cannot be set per pod, so they are taken from what was asked; every other
    field stays as read from the pod.
    """
    if kube is None:
        return lambda found, _asked: found

    def per_pod(found: ContainerHardening, asked: ContainerHardening) -> ContainerHardening:
        return attrs.evolve(found, **{name: getattr(asked, name) for name in NODE_LEVEL_FIELDS})

    return per_pod


@pytest.fixture
def is_internal(
    runtime: ListingRuntime, engine: aiodocker.Docker | None, kube: KubeNamespace | None
) -> Callable[[str], Awaitable[bool]]:
    """Tell whether a network, by id, is internal."""
    if kube is not None:
        namespace = kube

        async def from_policy(network_id: str) -> bool:
            policy = await namespace.get(
                f"networkpolicies/{network_id}", group="networking.k8s.io/v1"
            )
            assert policy is not None, f"no NetworkPolicy {network_id}"
            return policy_is_internal(policy)

        return from_policy
    if engine is None:
        assert isinstance(runtime, InMemoryContainerRuntime)
        memory = runtime

        async def recorded(network_id: str) -> bool:
            return memory.networks[network_id].internal

        return recorded
    docker = engine

    async def inspected(network_id: str) -> bool:
        return bool((await (await docker.networks.get(network_id)).show())["Internal"])

    return inspected


@pytest.fixture
def networks_of(
    runtime: ListingRuntime, engine: aiodocker.Docker | None, kube: KubeNamespace | None
) -> Callable[[str], Awaitable[set[str]]]:
    """The names of the networks a container is attached to."""
    if kube is not None:
        namespace = kube

        async def from_label(container_id: str) -> set[str]:
            labels = (await namespace.pod(container_id))["metadata"].get("labels") or {}
            return {labels[NETWORK_LABEL]} if NETWORK_LABEL in labels else set()

        return from_label
    if engine is None:
        assert isinstance(runtime, InMemoryContainerRuntime)
        memory = runtime

        async def recorded(container_id: str) -> set[str]:
            network = memory.containers[container_id].spec.network
            return {network or "bridge"}

        return recorded
    docker = engine

    async def inspected(container_id: str) -> set[str]:
        info = await docker.containers.container(container_id).show()
        return set(info["NetworkSettings"]["Networks"])

    return inspected


async def test_the_default_confinement_is_hardened(
    runtime: ListingRuntime, make_spec: SpecFactory, observe: Observe, comparable: Comparable
) -> None:
    started = await runtime.start_container(make_spec())

    expected = ContainerHardening()
    # The engine refuses a CPU limit above the CPUs it has, so the runtime may lower it.
    allowed = {expected.cpus, min(expected.cpus, float(os.cpu_count() or 1))}
    found = comparable(await observe(started.container_id), expected)
    assert found.cpus in allowed
    assert attrs.evolve(found, cpus=expected.cpus) == expected
    assert found.no_new_privileges
    assert found.cap_add == ()


async def test_every_setting_reaches_a_container_on_an_internal_network(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    observe: Observe,
    comparable: Comparable,
    is_internal: Callable[[str], Awaitable[bool]],
    networks_of: Callable[[str], Awaitable[set[str]]],
    network_name: str,
    labels: dict[str, str],
    endpoint_accepts_connections: bool,
) -> None:
    network = await runtime.ensure_network(network_name, labels, internal=True)

    started = await runtime.start_container(make_spec(network=network_name, hardening=CONFINED))

    assert comparable(await observe(started.container_id), CONFINED) == CONFINED
    assert await is_internal(network.network_id)
    assert await networks_of(started.container_id) == {network_name}
    assert started.endpoint.host == "127.0.0.1"
    if endpoint_accepts_connections:
        assert await accepts_connection(started.endpoint)
    assert await runtime.is_running(started.container_id)


async def test_limits_of_0_are_no_limits_and_privileges_may_be_allowed(
    runtime: ListingRuntime, make_spec: SpecFactory, observe: Observe, comparable: Comparable
) -> None:
    relaxed = ContainerHardening(no_new_privileges=False, pids_limit=0, memory_bytes=0, cpus=0)

    started = await runtime.start_container(make_spec(hardening=relaxed))

    assert comparable(await observe(started.container_id), relaxed) == relaxed


async def test_a_network_is_not_internal_unless_asked(
    runtime: ListingRuntime,
    is_internal: Callable[[str], Awaitable[bool]],
    network_name: str,
    labels: dict[str, str],
) -> None:
    network = await runtime.ensure_network(network_name, labels)

    assert not await is_internal(network.network_id)
    await runtime.remove_network(network.network_id)


@pytest.mark.parametrize("internal", [True, False])
async def test_an_existing_network_with_the_other_setting_is_refused(
    runtime: ListingRuntime, network_name: str, labels: dict[str, str], internal: bool
) -> None:
    network = await runtime.ensure_network(network_name, labels, internal=not internal)

    with pytest.raises(ContainerRuntimeError, match="performerNetworkInternal"):
        await runtime.ensure_network(network_name, labels, internal=internal)

    await runtime.remove_network(network.network_id)


async def test_removing_a_container_of_an_internal_network_leaves_nothing(
    runtime: ListingRuntime,
    make_spec: SpecFactory,
    network_name: str,
    labels: dict[str, str],
    engine: aiodocker.Docker | None,
) -> None:
    network = await runtime.ensure_network(network_name, labels, internal=True)
    started = await runtime.start_container(make_spec(network=network_name))

    assert await runtime.list_containers(labels) == [started.container_id]
    await runtime.remove_container(started.container_id, grace_seconds=1)

    assert await runtime.list_containers(labels) == []
    if engine is not None:  # relays included, which list_containers leaves out
        assert await engine.containers.list(all=True, filters=_by_label(_label(labels))) == []
    await runtime.remove_network(network.network_id)


def _by_label(label: str) -> str:
    return json.dumps({"label": [label]})


def _label(labels: dict[str, str]) -> str:
    key = next(k for k in labels if k.endswith("test-case"))
    return f"{key}={labels[key]}"


# --- what only the Docker engine shows ----------------------------------------------------


async def _exec(container_id: str, script: str) -> tuple[int, str]:
    """Run `sh -c script` in a container (through the local CLI) and return its status and
    output."""
    process = await asyncio.create_subprocess_exec(
        "docker",
        "exec",
        container_id,
        "sh",
        "-c",
        script,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.mark.docker
@docker_backend
async def test_the_engine_gets_each_setting_by_its_own_name(
    runtime: AiodockerContainerRuntime,
    engine: aiodocker.Docker,
    make_spec: SpecFactory,
    network_name: str,
    labels: dict[str, str],
) -> None:
    await runtime.ensure_network(network_name, labels, internal=True)
    started = await runtime.start_container(make_spec(network=network_name, hardening=CONFINED))

    info = await engine.containers.container(started.container_id).show()
    host = info["HostConfig"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["CapDrop"] == ["ALL"]
    assert host["CapAdd"] == ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"]
    assert host["PidsLimit"] == 128
    assert host["Memory"] == host["MemorySwap"] == 256 * MIB
    assert host["NanoCpus"] == 500_000_000
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "1m", "max-file": "2"}}
    assert host["ReadonlyRootfs"] is True
    assert host["Tmpfs"] == {"/tmp": f"rw,nosuid,nodev,size={16 * MIB}"}
    assert info["Config"]["User"] == "65532:65532"
    assert host["NetworkMode"] == network_name
    assert info["NetworkSettings"]["Ports"] in ({}, {"8080/tcp": None})  # the relay publishes
    network = await (await engine.networks.get(network_name)).show()
    assert network["Internal"] is True

    # What the process inside can do: its user, no capabilities, no new privileges, only /tmp
    # to write to.
    status, output = await _exec(
        started.container_id,
        "id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; "
        "touch /tmp/ok && echo tmp-writable; touch /root-fs 2>/dev/null || echo root-read-only",
    )
    assert status == 0, output
    lines = output.split()
    assert lines[0] == "65532"
    assert "CapEff:" in lines
    assert lines[lines.index("CapEff:") + 1] == "0000000000000000"
    assert "NoNewPrivs:" in lines
    assert lines[lines.index("NoNewPrivs:") + 1] == "1"
    assert "tmp-writable" in lines
    assert "root-read-only" in lines


@pytest.mark.docker
@docker_backend
async def test_the_relay_is_confined_and_joins_the_internal_network_and_the_bridge(
    runtime: AiodockerContainerRuntime,
    engine: aiodocker.Docker,
    make_spec: SpecFactory,
    network_name: str,
    labels: dict[str, str],
) -> None:
    await runtime.ensure_network(network_name, labels, internal=True)
    started = await runtime.start_container(make_spec(network=network_name))

    relays = await engine.containers.list(
        all=True, filters=_by_label(f"com.eigenlayer.hourglass.relay-for={started.container_id}")
    )
    assert len(relays) == 1
    info = await relays[0].show()
    assert set(info["NetworkSettings"]["Networks"]) == {"bridge", network_name}
    assert info["Config"]["Labels"]["com.eigenlayer.hourglass.role"] == "relay"
    assert labels.items() <= info["Config"]["Labels"].items()
    host = info["HostConfig"]
    assert host["CapDrop"] == ["ALL"]
    assert host["SecurityOpt"] == ["no-new-privileges:true"]
    assert host["ReadonlyRootfs"] is True
    assert info["Config"]["User"] == "65532:65532"
    bindings = info["NetworkSettings"]["Ports"]["8080/tcp"]
    assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
    assert int(bindings[0]["HostPort"]) == started.endpoint.port


@pytest.mark.docker
@docker_backend
async def test_a_relay_that_dies_is_reported_as_its_performer_dying(
    runtime: AiodockerContainerRuntime,
    engine: aiodocker.Docker,
    make_spec: SpecFactory,
    network_name: str,
    labels: dict[str, str],
) -> None:
    await runtime.ensure_network(network_name, labels, internal=True)
    started = await runtime.start_container(make_spec(network=network_name))
    watching = EventWatch(runtime, labels)
    await asyncio.sleep(0)
    try:
        relays = await engine.containers.list(
            all=True,
            filters=_by_label(f"com.eigenlayer.hourglass.relay-for={started.container_id}"),
        )
        await relays[0].kill()

        event = await watching.next()
        assert event.container_id == started.container_id
        assert event.kind is ContainerEventKind.DIED
    finally:
        await watching.stop()


@pytest.mark.docker
@docker_backend
async def test_an_internal_network_without_a_relay_image_is_refused_and_leaves_nothing(
    engine: aiodocker.Docker,
    runtime: AiodockerContainerRuntime,
    make_spec: SpecFactory,
    network_name: str,
    labels: dict[str, str],
) -> None:
    await runtime.ensure_network(network_name, labels, internal=True)
    bare = AiodockerContainerRuntime(start_timeout=20, poll_interval=0.1)
    try:
        with pytest.raises(ContainerStartFailed, match="performerNetworkRelayImage"):
            await bare.start_container(make_spec(network=network_name))
    finally:
        await bare.aclose()

    assert await engine.containers.list(all=True, filters=_by_label(_label(labels))) == []


@pytest.mark.docker
@docker_backend
async def test_a_relay_whose_performer_is_gone_is_listed_as_a_leftover(
    engine: aiodocker.Docker,
    runtime: AiodockerContainerRuntime,
    make_spec: SpecFactory,
    network_name: str,
    labels: dict[str, str],
) -> None:
    await runtime.ensure_network(network_name, labels, internal=True)
    started = await runtime.start_container(make_spec(network=network_name))
    relays = await engine.containers.list(
        all=True, filters=_by_label(f"com.eigenlayer.hourglass.relay-for={started.container_id}")
    )

    await engine.containers.container(started.container_id).delete(force=True)

    assert await runtime.list_containers(labels) == [relays[0].id]
    await runtime.remove_container(relays[0].id, grace_seconds=1)
    assert await engine.containers.list(all=True, filters=_by_label(_label(labels))) == []
