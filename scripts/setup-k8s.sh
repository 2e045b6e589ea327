#!/usr/bin/env bash
# Make this Debian machine able to run the local Kubernetes cluster of the tests marked
# `kubernetes` (tests/kubernetes_support.py): CNI plugins and openssl from Debian, the control
# plane, kubelet and etcd built from the Go module proxy (scripts/build-k8s.sh), and a tiny
# `pause` image (a static C binary in a docker-archive tar written by hand, so no image is
# pulled and Docker is not needed for it).
# Idempotent and quiet on success; on failure, the last lines of the failing command's output.
#   K8S_CACHE_DIR   where binaries and the pause image go (default: ~/.cache/hourglass-executor/k8s)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[setup-k8s] $*" >&2; }

kubernetes_version=v1.32.2
etcd_version=v3.5.17
cache=${K8S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hourglass-executor/k8s}
home="$cache/$kubernetes_version-etcd-$etcd_version"
pause_ref=localhost/hourglass-pause:1
pause_tar="$home/pause.tar"

run_quietly() {  # what, command...: show the output only when the command fails
  local what=$1 out
  shift
  out=$(mktemp /tmp/executor-setup-k8s.XXXXXX.log)
  if ! "$@" >"$out" 2>&1; then
    log "$what failed; last lines of its output:"
    tail -n 30 "$out" >&2
    rm -f "$out"
    exit 1
  fi
  rm -f "$out"
}

missing=()
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
command -v containerd >/dev/null 2>&1 || missing+=(containerd)
command -v runc >/dev/null 2>&1 || missing+=(runc)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "must run as root to install ${missing[*]} (try: sudo $0)"
    exit 1
  fi
  run_quietly "apt-get install ${missing[*]}" bash -c "
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends ${missing[*]} \
      || { apt-get update -q && apt-get install -y -q --no-install-recommends ${missing[*]}; }"
fi

# build-k8s.sh prints its binary directory on stdout; it talks on stderr only when it fails.
run_quietly "scripts/build-k8s.sh" bash scripts/build-k8s.sh

build_pause() {
  local work
  work=$(mktemp -d /tmp/executor-pause.XXXXXX) || return 1
  # shellcheck disable=SC2064
  trap "rm -rf '$work'" RETURN
  cat >"$work/pause.c" <<'C'
/* The sandbox's first process: holds the pod's namespaces, reaps zombies, exits on a signal. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
  return 0;
}
C
  # Called under `if !`, where errexit is off: every step says `|| return 1` itself.
  gcc -static -Os -s -o "$work/pause" "$work/pause.c" || return 1
  python3 - "$work/pause" "$pause_ref" "$pause_tar.tmp" <<'PY' || return 1
"""Write a docker-archive (`docker save` layout) holding one layer with /pause."""
import hashlib, io, json, sys, tarfile

binary, reference, target = sys.argv[1:]
layer = io.BytesIO()
with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
    info = tarfile.TarInfo("pause")
    data = open(binary, "rb").read()
    info.size, info.mode, info.mtime = len(data), 0o755, 0
    tar.addfile(info, io.BytesIO(data))
layer_bytes = layer.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
config = json.dumps({
    "architecture": "amd64",
    "os": "linux",
    "config": {"Entrypoint": ["/pause"], "User": "65535:65535"},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created_by": "scripts/setup-k8s.sh"}],
}, sort_keys=True).encode()
config_name = hashlib.sha256(config).hexdigest() + ".json"
layer_name = diff_id.split(":")[1] + "/layer.tar"
manifest = json.dumps(
    [{"Config": config_name, "RepoTags": [reference], "Layers": [layer_name]}]
).encode()
with tarfile.open(target, mode="w") as out:
    for name, payload in ((layer_name, layer_bytes), (config_name, config),
                          ("manifest.json", manifest)):
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = len(payload), 0o644, 0
        out.addfile(info, io.BytesIO(payload))
PY
  mv "$pause_tar.tmp" "$pause_tar" || return 1
}
if [ ! -s "$pause_tar" ]; then
  mkdir -p "$home"
  run_quietly "building the pause image" build_pause
fi
