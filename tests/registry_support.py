"""A real image registry on loopback, holding four variants of the example performer.

`running_registry()` starts Debian's ``docker-registry serve`` (distribution 2.8) with a config of
its own: storage in a temporary directory, ``http.addr`` on 127.0.0.1 and a free port, and the
access log (one line per request, on the process's stdout) in a file that tests can read to see
whether the engine pulled. It then builds four tiny images FROM hourglass-example-performer:latest,
pushes them, and removes the local tags again, so that starting one by digest really pulls:

    v1         ENV RESULT_TAG=v1            example-performer:v1
    v2         ENV RESULT_TAG=v2            example-performer:v2
    broken     serves nothing, never ready  broken-performer:v1
    turns_bad  ENV UNHEALTHY_AFTER_S=4      turns-bad-performer:v1

What untagging does (Docker 20.10, checked when this was written): removing the only tag of a
repository also removes that repository's digest references, so the image disappears from
RepoDigests and, having no references left, is deleted (its layers, shared with the example image,
stay). After a pull by digest the image is back with ``RepoTags == []`` and
``RepoDigests == ["<repository>@<digest>"]``. Should an engine keep the digest reference after
untagging, the digest reference is removed as well, so a first start always pulls.

Registry traffic stays on loopback; the engine talks plain HTTP to it because 127.0.0.0/8 is an
insecure registry by default. The images carry TEST_LABEL and a per-session label, which makes
their ids unique to the session; at the end the registry process is stopped and those image ids
(which pulled copies share) are removed.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from executor_core.performers import PerformerImage
from tests.docker_support import EXAMPLE_IMAGE, REPO, TEST_LABEL, docker_answers, free_port

__all__ = ["LocalRegistry", "PushedImage", "RegistryRequest", "running_registry"]

REGISTRY_BINARY = "docker-registry"
REGISTRY_SESSION_LABEL = "com.eigenlayer.hourglass.test-registry"
_START_TIMEOUT = 15.0
_STOP_TIMEOUT = 5.0
# `"GET /v2/example-performer/manifests/sha256:… HTTP/1.1" 200` in the combined log format.
_ACCESS_LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d{3}) ')


@attrs.frozen
class PushedImage:
    """One image in the registry; by the time tests see it, no local tag points at it."""

    repository: str
    """``127.0.0.1:<port>/<name>``."""
    tag: str
    digest: str
    """``sha256:…`` of the manifest, as the registry serves it."""
    image_id: str
    """The local image id (``sha256:…`` of the config); a pulled copy has the same id."""

    @property
    def reference(self) -> str:
        """``repository@digest``, what a deployment starts."""
        return f"{self.repository}@{self.digest}"

    @property
    def image(self) -> PerformerImage:
        """The image by digest, as the executor's core names it."""
        return PerformerImage(self.repository, digest=self.digest)


@attrs.frozen
class RegistryRequest:
    """One line of the registry's access log."""

    method: str
    path: str
    status: int


@attrs.frozen
class LocalRegistry:
    """The running registry: where it is, what it holds, and what it was asked for."""

    url: str
    """``127.0.0.1:<port>``, the registry host part of an image reference."""
    unreachable_url: str
    """``127.0.0.1:<port>`` where nothing listens, for references whose registry is down."""
    v1: PushedImage
    v2: PushedImage
    broken: PushedImage
    turns_bad: PushedImage
    access_log: Path

    @property
    def images(self) -> tuple[PushedImage, ...]:
        return (self.v1, self.v2, self.broken, self.turns_bad)

    def requests(self) -> list[RegistryRequest]:
        """Every request the registry has answered so far, oldest first."""
        found = []
        for line in self.access_log.read_text(errors="replace").splitlines():
            match = _ACCESS_LINE.search(line)
            if match:
                found.append(RegistryRequest(match["method"], match["path"], int(match["status"])))
        return found


def _docker(*args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["docker", *args], input=stdin, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args)} failed: {result.stderr.strip()[-2000:]}")
    return result.stdout.strip()


def _answers(url: str) -> bool:
    # No proxy: the registry is on loopback, whatever HTTP_PROXY says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{url}/v2/", timeout=1) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _closed_port() -> int:
    """Return a loopback port where a connection is refused: 1 (privileged, never ephemeral)."""
    for port in (1, free_port()):
        with socket.socket() as probe:
            probe.settimeout(1)
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("found no closed loopback port")


def _config(storage: Path, port: int) -> str:
    return f"""\
version: 0.1
log:
  level: warn
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


@contextlib.contextmanager
def _registry_process(workdir: Path) -> Iterator[tuple[str, Path]]:
    """Run docker-registry on a free loopback port; yield its url and access log path."""
    storage = workdir / "storage"
    storage.mkdir()
    access_log = workdir / "access.log"
    error_log = workdir / "registry.log"
    for _attempt in range(3):
        port = free_port()  # Free now; if someone takes it first, the process exits: retry.
        config = workdir / "config.yml"
        config.write_text(_config(storage, port))
        with access_log.open("ab") as out, error_log.open("ab") as err:
            process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config)],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
            )
        url = f"127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + _START_TIMEOUT
            while process.poll() is None and not _answers(url):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{REGISTRY_BINARY} did not answer on {url}")
                time.sleep(0.05)
            if process.poll() is None:
                yield url, access_log
                return
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(_STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    raise RuntimeError(
        f"{REGISTRY_BINARY} exited at start three times; its log:\n{error_log.read_text()[-2000:]}"
    )


_VARIANTS = {
    # name: (repository name, tag, Dockerfile lines after FROM)
    "v1": ("example-performer", "v1", ["ENV RESULT_TAG=v1"]),
    "v2": ("example-performer", "v2", ["ENV RESULT_TAG=v2"]),
    "broken": (
        "broken-performer",
        "v1",
        [
            # Runs, publishes its port, never serves; exits at once on SIGTERM (it is PID 1).
            'CMD ["python3", "-c", "import signal, sys, time; '
            'signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); time.sleep(1e9)"]',
        ],
    ),
    "turns_bad": ("turns-bad-performer", "v1", ["ENV UNHEALTHY_AFTER_S=4"]),
}


def _build_push_untag(url: str, name: str, session: str) -> PushedImage:
    """Build the variant, push it, and remove its local tag; the session label marks the image."""
    repository_name, tag, lines = _VARIANTS[name]
    repository = f"{url}/{repository_name}"
    tagged = f"{repository}:{tag}"
    dockerfile = "\n".join([f"FROM {EXAMPLE_IMAGE}", *lines, ""])
    _docker(
        "build",
        "--quiet",
        "--label",
        f"{TEST_LABEL}=1",
        "--label",
        _label(session),
        "--tag",
        tagged,
        "-",
        stdin=dockerfile,
    )
    image_id = _docker("image", "inspect", "--format", "{{.Id}}", tagged)
    _docker("push", "--quiet", tagged)
    digests = _docker("image", "inspect", "--format", "{{range .RepoDigests}}{{.}} {{end}}", tagged)
    [digest] = [d.split("@", 1)[1] for d in digests.split() if d.startswith(f"{repository}@")]
    _docker("image", "rm", tagged)
    # Docker 20.10 dropped the digest reference with the last tag (and so the image); should an
    # engine keep it, drop it too, so that a start by digest has to pull.
    with contextlib.suppress(RuntimeError):
        _docker("image", "rm", f"{repository}@{digest}")
    return PushedImage(repository, tag, digest, image_id)


def _remove_session_images(session: str) -> None:
    """Remove, by id, the images built for this session and their pulled copies (same labels)."""
    listed = subprocess.run(
        ["docker", "image", "ls", "--quiet", "--no-trunc", "--filter", f"label={_label(session)}"],
        capture_output=True,
        text=True,
        check=False,
    )
    for image_id in dict.fromkeys(listed.stdout.split()):
        subprocess.run(
            ["docker", "image", "rm", "--force", image_id], capture_output=True, check=False
        )


def _label(session: str) -> str:
    return f"{REGISTRY_SESSION_LABEL}={session}"


def _unavailable_reason() -> str | None:
    if not docker_answers():
        return "no Docker engine answers (run scripts/setup-env.sh)"
    if shutil.which(REGISTRY_BINARY) is None:
        return f"{REGISTRY_BINARY} is not installed (run scripts/setup-env.sh)"
    # A no-op when the image is current; otherwise it rebuilds it from app.py and the SDK.
    build = subprocess.run(
        ["bash", str(REPO / "examples" / "performer" / "build-image.sh")],
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0:
        return f"{EXAMPLE_IMAGE} cannot be built: {build.stderr.strip()[-500:]}"
    return None


@contextlib.contextmanager
def running_registry() -> Iterator[LocalRegistry]:
    """Start the registry, push the four images, yield; then stop it and remove the images.

    Calls pytest.skip, with the reason, when Docker or docker-registry is missing.
    """
    reason = _unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    session = uuid.uuid4().hex[:12]
    with (
        tempfile.TemporaryDirectory(prefix="executor-test-registry-") as workdir,
        _registry_process(Path(workdir)) as (url, access_log),
    ):
        try:
            yield LocalRegistry(
                url=url,
                unreachable_url=f"127.0.0.1:{_closed_port()}",
                v1=_build_push_untag(url, "v1", session),
                v2=_build_push_untag(url, "v2", session),
                broken=_build_push_untag(url, "broken", session),
                turns_bad=_build_push_untag(url, "turns_bad", session),
                access_log=access_log,
            )
        finally:
            _remove_session_images(session)
