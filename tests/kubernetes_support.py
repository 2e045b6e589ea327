"""A real one-node Kubernetes cluster on loopback, for tests of the Kubernetes adapter.

`running_cluster(workdir)` starts, each in its own process group and logging to a file under
``workdir/logs``, everything bound to 127.0.0.1 on free ports:

- etcd (its data dir under workdir, fsync off: the data lives as long as the test session);
- kube-apiserver with a CA, serving and kubelet-client certificates made here with the openssl
  CLI (Python's `cryptography` is not in the venv), a service-account key pair, a static token
  file (an admin token in ``system:masters`` and the kubelet's ``system:node:<name>`` token),
  ``--authorization-mode=Node,RBAC`` and the ServiceAccount and NodeRestriction admission plugins;
- kube-controller-manager (service-account tokens, namespaces, endpoints and endpoint slices,
  garbage collection: its default controller set) and kube-scheduler;
- a node: a containerd of its own (config, root, state and socket under workdir and
  ``/run/executor-k8s-<id>``, runc state in the same place, never Docker's containerd) with the CRI
  plugin on cgroupfs, the hand-made pause image of scripts/setup-k8s.sh as sandbox image, CNI
  bridge + host-local (+ portmap, loopback) from /usr/lib/cni with a conf dir of its own, and a
  registry hosts dir (``registry.config_path``) that `LocalCluster.trust_registry` writes to; and
  a kubelet with ``--node-ip=127.0.0.1``, TLS on 127.0.0.1 with a certificate from the CA, x509 +
  webhook authentication and webhook authorization, so the API server reaches it for logs,
  exec and port-forward (with its client certificate in ``system:masters``).

The node is real (``LocalCluster.real_nodes``): on this kind of machine (Debian 12, cgroup v1,
PID 1 not systemd, root on ext4) the kubelet runs pods through containerd without trouble, so the
kwok fallback was never needed. Two things it does not do by itself are done here: it refuses a
loopback ``--node-ip`` (``"Failed to set some node status fields" err="failed to validate nodeIP:
nodeIP can't be loopback address"``, at every status update), so once the node registers its
addresses are set through the API (``InternalIP 127.0.0.1``), which the kubelet then leaves
alone; and with ``makeIPTablesUtilChains`` on it would add KUBE-FIREWALL, which drops
non-loopback packets to 127.0.0.0/8, so that is off. Its log still says, harmlessly, that it
cannot raise the file-handle rlimit, set the OOM score of init, or find filesystem stats for
/dev/vda (the eviction manager then does not evict, which a test cluster does not need).

One cluster per machine at a time (a lock on ``/run/executor-k8s.lock``): the bridge, its subnet
and the sysctls are machine-wide.

There is no kube-proxy and no cluster DNS: Service IPs do not route. Pods get addresses on the
bridge, with no masquerading (and Docker's FORWARD policy is DROP): nothing outside the machine
answers them. Tests reach pods only through
the API server (``pods/<name>/portforward``), never at their IPs.

What the kubelet changes on the machine, and is undone at exit: sysctls it sets for itself
(``vm.overcommit_memory``, ``kernel.panic`` …, restored to the values found at start), the
iptables canary chains it makes and its ``kubepods`` cgroups (removed if they were not there
before). At exit, pods are deleted
through the API (so the kubelet stops their sandboxes and CNI releases their addresses), then
whatever is left in our containerd is killed and deleted with ctr, the shims of our containerd
(found by our socket address in their command line) are killed by pid, mounts under our
directories are unmounted, and the CNI bridge and the iptables rules CNI tagged with our network
name are removed. A session that was killed may leave those behind; the next one removes the
bridge (its name is fixed) before it starts.

Needs root (containerd, kubelet, mounts, iptables), and scripts/setup-k8s.sh run first.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shlex
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import attrs

from tests.docker_support import REPO, free_port

__all__ = [
    "PAUSE_IMAGE",
    "ClusterStartError",
    "LocalCluster",
    "k8s_home",
    "running_cluster",
    "unavailable_reason",
]

KUBERNETES_VERSION = "v1.32.2"
ETCD_VERSION = "v3.5.17"
PAUSE_IMAGE = "localhost/hourglass-pause:1"
"""The sandbox image scripts/setup-k8s.sh writes (a static C `pause`, nothing else)."""
NODE_NAME = "hourglass-node"
BRIDGE = "hgk8s0"
"""The CNI bridge; fixed, so that a run can remove what a killed run left."""
POD_SUBNET = "10.244.0.0/24"
SERVICE_RANGE = "10.96.0.0/24"
CNI_NETWORK = "hourglass-k8s"
K8S_NAMESPACE = "k8s.io"
"""containerd's namespace for everything the CRI plugin makes."""

_LOCK_FILE = Path("/run/executor-k8s.lock")
_LOCK_WAIT = 1800
_READY_TIMEOUT = 60.0
_NODE_TIMEOUT = 90.0
_STOP_GRACE = 10.0
_POD_DRAIN_TIMEOUT = 45.0
_KUBELET_SYSCTLS = (
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
)
_IPTABLES = ("iptables", "ip6tables")
_TABLES = ("filter", "nat", "mangle")


class ClusterStartError(RuntimeError):
    """A process of the cluster exited or did not become ready; the message quotes its log."""


def k8s_home() -> Path:
    """Where scripts/setup-k8s.sh put the binaries (``bin/``) and ``pause.tar``."""
    cache = os.environ.get("K8S_CACHE_DIR") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "hourglass-executor/k8s"
    )
    return Path(cache) / f"{KUBERNETES_VERSION}-etcd-{ETCD_VERSION}"


def unavailable_reason() -> str | None:
    """Why this machine cannot run the cluster at all (then tests skip), or None."""
    if os.geteuid() != 0:
        return "the local Kubernetes cluster needs root (containerd, kubelet, mounts, iptables)"
    if shutil.which("go") is None:
        return "Go is missing: scripts/build-k8s.sh builds Kubernetes from the Go module proxy"
    return None


def setup_machine() -> None:
    """Run scripts/setup-k8s.sh (quiet and quick when all is in place); raise with its output."""
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup-k8s.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/setup-k8s.sh failed:\n{done.stderr.strip()[-3000:]}")


@attrs.frozen
class LocalCluster:
    """The running cluster, as a client (or the adapter under test) sees it."""

    api_url: str
    """``https://127.0.0.1:<port>``."""
    kubeconfig: Path
    """An admin kubeconfig: the token below and the CA."""
    token: str
    """A bearer token in ``system:masters``."""
    ca_file: Path
    """The CA that signed the API server's (and the kubelet's) serving certificate."""
    real_nodes: bool
    """True: a kubelet runs containers (a kwok node, without containers, would say False; it
    was not needed: see the module docstring)."""
    node_name: str
    containerd_address: str
    """Our containerd's socket, for ``ctr --address``."""
    registry_hosts_dir: Path
    """containerd's ``registry.config_path``: one ``<host:port>/hosts.toml`` per registry."""
    logs_dir: Path

    def import_image(self, docker_reference: str) -> None:
        """Copy an image from Docker into the node (``docker save | ctr images import``).

        The node then has it under its normalised name (``docker.io/library/…`` for short
        names); pods must use ``imagePullPolicy: IfNotPresent`` or ``Never`` to start it without
        a pull (a ``:latest`` tag defaults to ``Always``).
        """
        with subprocess.Popen(
            ["docker", "save", docker_reference], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as save:
            imported = subprocess.run(
                [*self._ctr(), "images", "import", "-"],
                stdin=save.stdout,
                capture_output=True,
                text=True,
                check=False,
            )
            save_err = save.stderr.read().decode(errors="replace") if save.stderr else ""
        if save.returncode != 0 or imported.returncode != 0:
            raise RuntimeError(
                f"importing {docker_reference} failed: {save_err.strip()} {imported.stderr.strip()}"
            )

    def trust_registry(self, host_port: str) -> None:
        """Let the node pull from a plain-HTTP registry at ``host_port`` (loopback only).

        containerd reads the hosts dir at each pull, so this takes effect at once.
        """
        if not host_port.startswith(("127.0.0.1:", "localhost:")):
            raise ValueError(f"only loopback registries are allowed, not {host_port}")
        directory = self.registry_hosts_dir / host_port
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "hosts.toml").write_text(
            f'server = "http://{host_port}"\n\n'
            f'[host."http://{host_port}"]\n'
            '  capabilities = ["pull", "resolve"]\n'
            "  skip_verify = true\n"
        )

    def images(self) -> list[str]:
        """The image references our containerd holds (for tests that check a pull happened)."""
        listed = subprocess.run(
            [*self._ctr(), "images", "list", "--quiet"],
            capture_output=True,
            text=True,
            check=True,
        )
        return listed.stdout.split()

    def request(
        self, method: str, path: str, body: object = None, content_type: str = "application/json"
    ) -> object:
        """One call to the API server as admin; JSON in and out (for fixtures and teardown)."""
        return json.loads(self.request_bytes(method, path, body, content_type) or b"null")

    def request_bytes(
        self, method: str, path: str, body: object = None, content_type: str = "application/json"
    ) -> bytes:
        """One call to the API server as admin; the raw answer (``/readyz`` says ``ok``)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.api_url + path,
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )
        context = ssl.create_default_context(cafile=str(self.ca_file))
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
        )
        with opener.open(request, timeout=10) as response:
            answer: bytes = response.read()
            return answer

    def _ctr(self) -> list[str]:
        return ["ctr", "--address", self.containerd_address, "--namespace", K8S_NAMESPACE]


# --- processes -------------------------------------------------------------------------------


@attrs.define
class _Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        code = self.popen.poll()
        if code is not None:
            raise ClusterStartError(
                f"{self.name} exited with code {code}; last lines of {self.log}:\n{self.tail()}"
            )

    def stop(self) -> None:
        """SIGTERM by pid, SIGKILL after a grace: our processes only, never a name match."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(_STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@attrs.define
class _Processes:
    logs: Path
    started: list[_Process] = attrs.field(factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> _Process:
        log = self.logs / f"{name}.log"
        with log.open("ab") as out:
            popen = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: a ^C to pytest is ours to pass
                env={**os.environ, **(env or {})},
            )
        process = _Process(name, popen, log)
        self.started.append(process)
        return process

    def stop(self, name: str) -> None:
        for process in self.started:
            if process.name == name:
                process.stop()

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()


def _wait_for(
    what: str, ready: Callable[[], bool], processes: list[_Process], timeout: float
) -> None:
    """Poll until `ready`; fail early, quoting its log, when one of `processes` exits."""
    deadline = time.monotonic() + timeout
    while True:
        for process in processes:
            process.check_alive()
        if ready():
            return
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {p.name} ({p.log}):\n{p.tail()}" for p in processes)
            raise ClusterStartError(f"{what} not ready within {timeout:.0f} s\n{tails}")
        time.sleep(0.2)


# --- certificates and config files -------------------------------------------------------


def _openssl(*args: str) -> None:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args[:2])} failed: {done.stderr.strip()[-1000:]}")


def _make_ca(pki: Path) -> None:
    _openssl("req", "-x509", "-new", "-nodes", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-keyout", str(pki / "ca.key"), "-out",
             str(pki / "ca.crt"), "-days", "30", "-subj", "/CN=hourglass-test-kubernetes-ca",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip


def _make_cert(pki: Path, name: str, subject: str, sans: str | None = None) -> None:
    """A P-256 key and a certificate from our CA, for serving and client use."""
    _openssl("req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-keyout", str(pki / f"{name}.key"), "-out", str(pki / f"{name}.csr"),
             "-subj", subject)  # fmt: skip
    extensions = [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth,clientAuth",
    ]
    if sans:
        extensions.append(f"subjectAltName={sans}")
    (pki / f"{name}.ext").write_text("\n".join(extensions) + "\n")
    _openssl("x509", "-req", "-in", str(pki / f"{name}.csr"), "-CA", str(pki / "ca.crt"),
             "-CAkey", str(pki / "ca.key"), "-CAcreateserial", "-days", "30",
             "-extfile", str(pki / f"{name}.ext"), "-out", str(pki / f"{name}.crt"))  # fmt: skip


def _make_pki(pki: Path) -> None:
    pki.mkdir(parents=True)
    _make_ca(pki)
    service_ip = "10.96.0.1"
    _make_cert(
        pki,
        "apiserver",
        "/CN=kube-apiserver",
        f"IP:127.0.0.1,IP:{service_ip},DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local",
    )
    _make_cert(
        pki, "apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client"
    )
    _make_cert(pki, "kubelet", f"/CN={NODE_NAME}", f"IP:127.0.0.1,DNS:{NODE_NAME},DNS:localhost")
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-out", str(pki / "sa.key"))  # fmt: skip
    _openssl("pkey", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def write_kubeconfig(path: Path, api_url: str, ca: Path, user: str, token: str) -> Path:
    """A kubeconfig for the API server at `api_url` with a bearer token."""
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "local",
                        "cluster": {"server": api_url, "certificate-authority": str(ca)},
                    }
                ],
                "users": [{"name": user, "user": {"token": token}}],
                "contexts": [{"name": "local", "context": {"cluster": "local", "user": user}}],
                "current-context": "local",
            },
            indent=2,
        )
    )
    return path


def _containerd_config(work: Path, run: Path, hosts_dir: Path, cni_conf: Path) -> str:
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""\
version = 2
root = "{work / "containerd"}"
state = "{run / "containerd"}"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "{run / "containerd.sock"}"

[ttrpc]
  address = "{run / "containerd.sock.ttrpc"}"

[debug]
  address = ""

[metrics]
  address = ""

[{cri}]
  sandbox_image = "{PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true
  restrict_oom_score_adj = true
  # Pod network namespaces under our state dir, not /run/netns: teardown finds them there.
  netns_mounts_under_state_dir = true

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{run / "runc"}"

[{cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{cni_conf}"

[{cri}.registry]
  config_path = "{hosts_dir}"
"""


def _cni_config(ipam_dir: Path) -> str:
    """Bridge without masquerading (pods have no way out) and portmap for hostPorts."""
    return json.dumps(
        {
            "cniVersion": "1.0.0",
            "name": CNI_NETWORK,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": BRIDGE,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": POD_SUBNET}]],
                        "dataDir": str(ipam_dir),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        },
        indent=2,
    )


def _kubelet_config(pki: Path, socket: Path, port: int, healthz_port: int) -> str:
    return json.dumps(
        {
            "apiVersion": "kubelet.config.k8s.io/v1beta1",
            "kind": "KubeletConfiguration",
            "address": "127.0.0.1",
            "port": port,
            "readOnlyPort": 0,
            "healthzBindAddress": "127.0.0.1",
            "healthzPort": healthz_port,
            "tlsCertFile": str(pki / "kubelet.crt"),
            "tlsPrivateKeyFile": str(pki / "kubelet.key"),
            "authentication": {
                "anonymous": {"enabled": False},
                "webhook": {"enabled": True},
                "x509": {"clientCAFile": str(pki / "ca.crt")},
            },
            "authorization": {"mode": "Webhook"},
            "cgroupDriver": "cgroupfs",
            "makeIPTablesUtilChains": False,
            "failSwapOn": False,
            "containerRuntimeEndpoint": f"unix://{socket}",
            "localStorageCapacityIsolation": False,
            "imageGCHighThresholdPercent": 100,
            "imageGCLowThresholdPercent": 99,
            "evictionHard": {
                "memory.available": "50Mi",
                "nodefs.available": "1%",
                "imagefs.available": "1%",
            },
            "serializeImagePulls": False,
            "registerNode": True,
            "resolvConf": "/etc/resolv.conf",
            "nodeStatusReportFrequency": "10s",
            "syncFrequency": "5s",
            "fileCheckFrequency": "5s",
            "shutdownGracePeriod": "0s",
        },
        indent=2,
    )


# --- machine state the node touches ----------------------------------------------------------


def _read_sysctls() -> dict[str, str]:
    found = {}
    for name in _KUBELET_SYSCTLS:
        with contextlib.suppress(OSError):
            found[name] = (Path("/proc/sys") / name).read_text().strip()
    return found


def _restore_sysctls(values: dict[str, str]) -> None:
    for name, value in values.items():
        path = Path("/proc/sys") / name
        with contextlib.suppress(OSError):
            if path.read_text().strip() != value:
                path.write_text(value)


def _kube_chains() -> set[tuple[str, str, str]]:
    """(binary, table, chain) of every ``KUBE-*`` chain, IPv4 and IPv6."""
    found = set()
    for binary in _IPTABLES:
        for table in _TABLES:
            saved = subprocess.run(
                [f"{binary}-save", "-t", table], capture_output=True, text=True, check=False
            ).stdout
            for line in saved.splitlines():
                if line.startswith(":KUBE-"):
                    found.add((binary, table, line[1:].split()[0]))
    return found


def _remove_new_chains(before: set[tuple[str, str, str]]) -> None:
    """Remove the KUBE-* chains (and the jumps to them) that were not there at start.

    ``makeIPTablesUtilChains: false`` keeps the kubelet from making KUBE-FIREWALL (which drops
    non-loopback packets to 127.0.0.0/8); its canary chains it makes anyway.
    """
    for binary, table, chain in _kube_chains() - before:
        saved = subprocess.run(
            [f"{binary}-save", "-t", table], capture_output=True, text=True, check=False
        ).stdout
        for line in saved.splitlines():
            if line.startswith("-A ") and f"-j {chain}" in line:
                rule = shlex.split(line[3:])
                subprocess.run([binary, "-w", "-t", table, "-D", *rule], capture_output=True)
        subprocess.run([binary, "-w", "-t", table, "-F", chain], capture_output=True)
        subprocess.run([binary, "-w", "-t", table, "-X", chain], capture_output=True)


def _kubepods_cgroups() -> set[Path]:
    """The kubelet's ``kubepods`` cgroup in every v1 hierarchy (cgroupfs driver)."""
    return {path for path in Path("/sys/fs/cgroup").glob("*/kubepods") if path.is_dir()}


def _remove_new_cgroups(before: set[Path]) -> None:
    """rmdir, deepest first, the kubepods trees the kubelet made (empty once pods are gone)."""
    for top in _kubepods_cgroups() - before:
        for directory, _subdirs, _files in os.walk(top, topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(directory)


def _remove_cni_rules() -> None:
    """Delete iptables rules whose comment names our CNI network (portmap and bridge tag them)."""
    for binary in _IPTABLES:
        for table in _TABLES:
            saved = subprocess.run(
                [f"{binary}-save", "-t", table], capture_output=True, text=True, check=False
            ).stdout
            for line in saved.splitlines():
                if line.startswith("-A ") and CNI_NETWORK in line:
                    rule = shlex.split(line[3:])
                    subprocess.run([binary, "-w", "-t", table, "-D", *rule], capture_output=True)


def _remove_bridge() -> None:
    subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True, check=False)


def _unmount_under(*roots: Path) -> None:
    """Lazily unmount everything mounted below our directories, deepest first."""
    prefixes = tuple(f"{root}/" for root in roots)
    mounts = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefixes) or point in {str(r) for r in roots}:
            mounts.append(point)
    for point in sorted(set(mounts), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def _kill_shims(containerd_socket: Path) -> None:
    """Kill, by pid, the runc shims of our containerd: their command line names our socket."""
    needle = str(containerd_socket).encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"containerd-shim-runc-v2") and needle in argv:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


def _remove_containers(ctr: list[str]) -> None:
    """Kill and delete what is left in our containerd after the kubelet stopped."""

    def listed(kind: str) -> list[str]:
        out = subprocess.run([*ctr, kind, "list", "--quiet"], capture_output=True, text=True)
        return out.stdout.split()

    for task in listed("tasks"):
        subprocess.run([*ctr, "tasks", "kill", "--signal", "SIGKILL", task], capture_output=True)
    for task in listed("tasks"):
        subprocess.run([*ctr, "tasks", "delete", "--force", task], capture_output=True)
    for container in listed("containers"):
        subprocess.run([*ctr, "containers", "delete", container], capture_output=True)


# --- readiness -----------------------------------------------------------------------------


def _answers(cluster: LocalCluster, path: str) -> bool:
    try:
        cluster.request_bytes("GET", path)
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return True


def _node_registered(cluster: LocalCluster) -> bool:
    return _answers(cluster, f"/api/v1/nodes/{cluster.node_name}")


def _give_node_its_address(cluster: LocalCluster) -> None:
    """Set the node's InternalIP to 127.0.0.1, which the kubelet refuses to set itself.

    Its log says, at every status update: ``"Failed to set some node status fields"
    err="failed to validate nodeIP: nodeIP can't be loopback address"``, and it then leaves the
    addresses as they are; so the ones set here stay, and the API server reaches the kubelet
    (logs, exec, port-forward) at 127.0.0.1 on the port the node reports.
    """
    addresses = [
        {"type": "InternalIP", "address": "127.0.0.1"},
        {"type": "Hostname", "address": cluster.node_name},
    ]
    cluster.request(
        "PATCH",
        f"/api/v1/nodes/{cluster.node_name}/status",
        {"status": {"addresses": addresses}},
        content_type="application/merge-patch+json",
    )


def _node_ready(cluster: LocalCluster) -> bool:
    try:
        node = cluster.request("GET", f"/api/v1/nodes/{cluster.node_name}")
    except (urllib.error.URLError, OSError, ValueError):
        return False
    assert isinstance(node, dict)
    conditions = node.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _drain_pods(cluster: LocalCluster, kubelet: _Process) -> None:
    """Delete every pod with a short grace, so the kubelet tears sandboxes down (CNI DEL).

    Waits (bounded) while the kubelet lives; without it, ctr and the unmounts clean up.
    """
    with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
        pods = cluster.request("GET", "/api/v1/pods")
        assert isinstance(pods, dict)
        for pod in pods.get("items", []):
            meta = pod["metadata"]
            with contextlib.suppress(urllib.error.URLError, OSError, ValueError):
                cluster.request(
                    "DELETE",
                    f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}",
                    {"gracePeriodSeconds": 1},
                )
        deadline = time.monotonic() + _POD_DRAIN_TIMEOUT
        while time.monotonic() < deadline and kubelet.popen.poll() is None:
            remaining = cluster.request("GET", "/api/v1/pods")
            assert isinstance(remaining, dict)
            if not remaining.get("items"):
                return
            time.sleep(0.5)


# --- the cluster ---------------------------------------------------------------------------


@attrs.frozen
class _Layout:
    """Every path of one cluster; sockets and kubelet state sit in a short /run directory."""

    work: Path
    run: Path

    @property
    def pki(self) -> Path:
        return self.work / "pki"

    @property
    def logs(self) -> Path:
        return self.work / "logs"

    @property
    def socket(self) -> Path:
        return self.run / "containerd.sock"

    @property
    def kubelet_root(self) -> Path:
        return self.run / "kubelet"

    @property
    def hosts_dir(self) -> Path:
        return self.work / "certs.d"

    @property
    def cni_conf(self) -> Path:
        return self.work / "cni" / "net.d"

    def make(self) -> None:
        for directory in (self.logs, self.hosts_dir, self.cni_conf, self.work / "cni" / "ipam"):
            directory.mkdir(parents=True, exist_ok=True)
        self.run.mkdir(mode=0o700, parents=True)


def _start_control_plane(
    procs: _Processes, layout: _Layout, bin_dir: Path, tokens: dict[str, str]
) -> LocalCluster:
    """etcd, then the API server (waited on /readyz), then controller-manager and scheduler."""
    pki, work = layout.pki, layout.work
    etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
    etcd = procs.start("etcd", [
        str(bin_dir / "etcd"), "--name", "default", "--data-dir", str(work / "etcd"),
        "--listen-client-urls", f"http://127.0.0.1:{etcd_port}",
        "--advertise-client-urls", f"http://127.0.0.1:{etcd_port}",
        "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
        "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
        "--initial-cluster", f"default=http://127.0.0.1:{peer_port}",
        "--unsafe-no-fsync", "--log-level", "warn",
    ])  # fmt: skip
    (pki / "tokens.csv").write_text(
        f'{tokens["admin"]},admin,admin,"system:masters"\n'
        f'{tokens["node"]},system:node:{NODE_NAME},node,"system:nodes"\n'
    )
    api_url = f"https://127.0.0.1:{api_port}"
    apiserver = procs.start("kube-apiserver", [
        str(bin_dir / "kube-apiserver"),
        f"--etcd-servers=http://127.0.0.1:{etcd_port}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={api_port}",
        f"--tls-cert-file={pki / 'apiserver.crt'}",
        f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        f"--token-auth-file={pki / 'tokens.csv'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--service-cluster-ip-range={SERVICE_RANGE}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,"
        "NodeRestriction,DefaultTolerationSeconds,Priority,ResourceQuota",
        f"--kubelet-client-certificate={pki / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={pki / 'apiserver-kubelet-client.key'}",
        f"--kubelet-certificate-authority={pki / 'ca.crt'}",
        "--kubelet-preferred-address-types=InternalIP",
        # The `kubernetes` Service cannot have a loopback endpoint; nothing in it would route.
        "--endpoint-reconciler-type=none",
        "--allow-privileged=true", "--profiling=false", f"--cert-dir={work / 'apiserver-certs'}",
    ])  # fmt: skip
    admin = work / "admin.kubeconfig"
    write_kubeconfig(admin, api_url, pki / "ca.crt", "admin", tokens["admin"])
    write_kubeconfig(
        work / "kubelet.kubeconfig", api_url, pki / "ca.crt", NODE_NAME, tokens["node"]
    )
    cluster = LocalCluster(
        api_url=api_url,
        kubeconfig=admin,
        token=tokens["admin"],
        ca_file=pki / "ca.crt",
        real_nodes=True,
        node_name=NODE_NAME,
        containerd_address=str(layout.socket),
        registry_hosts_dir=layout.hosts_dir,
        logs_dir=layout.logs,
    )
    _wait_for("kube-apiserver /readyz", lambda: _answers(cluster, "/readyz"), [etcd, apiserver],
              _READY_TIMEOUT)  # fmt: skip
    common = [
        f"--kubeconfig={admin}", f"--authentication-kubeconfig={admin}",
        f"--authorization-kubeconfig={admin}", "--bind-address=127.0.0.1", "--leader-elect=false",
    ]  # fmt: skip
    procs.start("kube-controller-manager", [
        str(bin_dir / "kube-controller-manager"), *common, f"--secure-port={free_port()}",
        f"--service-account-private-key-file={pki / 'sa.key'}",
        f"--root-ca-file={pki / 'ca.crt'}", "--use-service-account-credentials=false",
        f"--cert-dir={work / 'controller-manager-certs'}",
    ])  # fmt: skip
    procs.start("kube-scheduler", [
        str(bin_dir / "kube-scheduler"), *common, f"--secure-port={free_port()}",
        f"--cert-dir={work / 'scheduler-certs'}",
    ])  # fmt: skip
    return cluster


def _start_node(procs: _Processes, layout: _Layout, bin_dir: Path, cluster: LocalCluster) -> None:
    """Our containerd (with the pause image imported), then the kubelet; waits for node Ready."""
    work = layout.work
    (layout.cni_conf / "10-hourglass.conflist").write_text(_cni_config(work / "cni" / "ipam"))
    config = work / "containerd.toml"
    config.write_text(_containerd_config(work, layout.run, layout.hosts_dir, layout.cni_conf))
    containerd = procs.start("containerd", ["containerd", "--config", str(config)])
    ctr = ["ctr", "--address", str(layout.socket), "--namespace", K8S_NAMESPACE]
    _wait_for(
        "containerd",
        lambda: subprocess.run([*ctr, "version"], capture_output=True).returncode == 0,
        [containerd],
        _READY_TIMEOUT,
    )
    imported = subprocess.run(
        [*ctr, "images", "import", str(k8s_home() / "pause.tar")], capture_output=True, text=True
    )
    if imported.returncode != 0:
        raise ClusterStartError(f"importing the pause image failed: {imported.stderr.strip()}")
    (work / "kubelet.json").write_text(
        _kubelet_config(layout.pki, layout.socket, free_port(), free_port())
    )
    kubelet = procs.start("kubelet", [
        str(bin_dir / "kubelet"), f"--config={work / 'kubelet.json'}",
        f"--kubeconfig={work / 'kubelet.kubeconfig'}", f"--root-dir={layout.kubelet_root}",
        f"--hostname-override={NODE_NAME}", "--node-ip=127.0.0.1", "--v=1",
    ])  # fmt: skip
    _wait_for(f"node {NODE_NAME} registered", lambda: _node_registered(cluster),
              [containerd, kubelet], _NODE_TIMEOUT)  # fmt: skip
    _give_node_its_address(cluster)
    _wait_for(f"node {NODE_NAME} Ready", lambda: _node_ready(cluster), [containerd, kubelet],
              _NODE_TIMEOUT)  # fmt: skip


def _stop_node(procs: _Processes, layout: _Layout, cluster: LocalCluster | None) -> None:
    """Pods first (through the kubelet), then our containerd's leftovers, mounts, network."""
    kubelets = [p for p in procs.started if p.name == "kubelet" and p.popen.poll() is None]
    if cluster is not None and kubelets:
        _drain_pods(cluster, kubelets[0])
    procs.stop("kubelet")
    if any(p.name == "containerd" for p in procs.started):
        _remove_containers(["ctr", "--address", str(layout.socket), "--namespace", K8S_NAMESPACE])
    procs.stop("containerd")
    _kill_shims(layout.socket)
    _unmount_under(layout.run, layout.work)
    _remove_cni_rules()
    _remove_bridge()


@contextlib.contextmanager
def _machine_lock() -> Iterator[None]:
    """One local cluster per machine: the bridge, its subnet and the sysctls are machine-wide.
    A second session waits for the first one's cluster to go, up to `_LOCK_WAIT` seconds."""
    with _LOCK_FILE.open("a+") as lock:
        deadline = time.monotonic() + _LOCK_WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    lock.seek(0)
                    raise ClusterStartError(
                        f"another local cluster has run on this machine for over {_LOCK_WAIT} s "
                        f"({_LOCK_FILE}: {lock.read().strip()})"
                    ) from None
                time.sleep(1)
        lock.truncate(0)
        lock.write(f"pid {os.getpid()}\n")
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def running_cluster(workdir: Path) -> Iterator[LocalCluster]:
    """Start the whole cluster under `workdir`; stop everything and clean up at exit.

    Raises ClusterStartError, naming the process and quoting its log, when one fails to start.
    """
    with _machine_lock():
        yield from _cluster(workdir)


def _cluster(workdir: Path) -> Iterator[LocalCluster]:
    bin_dir = k8s_home() / "bin"
    layout = _Layout(work=workdir, run=Path(f"/run/executor-k8s-{uuid.uuid4().hex[:8]}"))
    layout.make()
    _remove_bridge()  # a killed earlier session's: the name is ours, and the lock is held
    procs = _Processes(layout.logs)
    sysctls, chains, cgroups = _read_sysctls(), _kube_chains(), _kubepods_cgroups()
    cluster = None
    try:
        _make_pki(layout.pki)
        tokens = {"admin": secrets.token_hex(24), "node": secrets.token_hex(24)}
        cluster = _start_control_plane(procs, layout, bin_dir, tokens)
        _start_node(procs, layout, bin_dir, cluster)
        yield cluster
    finally:
        try:
            _stop_node(procs, layout, cluster)
            procs.stop_all()
        finally:
            _restore_sysctls(sysctls)
            _remove_new_chains(chains)
            _remove_new_cgroups(cgroups)
            _unmount_under(layout.run)
            shutil.rmtree(layout.run, ignore_errors=True)
