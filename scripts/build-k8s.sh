#!/usr/bin/env bash
# Build the Kubernetes control plane, a kubelet and etcd from the Go module proxy (no binary can
# be downloaded here) into a cache directory keyed by version, for the tests marked `kubernetes`.
# Quiet on success; a second run with the binaries in place takes well under a second.
#   K8S_CACHE_DIR   where binaries go (default: ~/.cache/hourglass-executor/k8s)
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[build-k8s] $*" >&2; }

kubernetes_version=v1.32.2
staging_version=v0.32.2
etcd_version=v3.5.17
cache=${K8S_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hourglass-executor/k8s}
bin="$cache/$kubernetes_version-etcd-$etcd_version/bin"
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet)

have_all() {
  for b in "${binaries[@]}" etcd; do [ -x "$bin/$b" ] || return 1; done
}
if have_all; then
  echo "$bin"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  log "go not found: install Go 1.23 or newer"
  exit 1
fi
mkdir -p "$bin"
work=$(mktemp -d /tmp/executor-k8s-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
started=$(date +%s)

# The kubernetes module names its staging modules with `=> ./staging/...` replaces that only
# exist in its git tree; each is published on its own at the matching v0 version.
main_go() {  # binary, constructor call
  mkdir -p "$work/kube/cmd/$1"
  cat >"$work/kube/cmd/$1/main.go" <<GO
package main

import (
	"context"
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/$1/app"
)

var _ = context.Background

func main() { os.Exit(cli.Run(app.$2)) }
GO
}
main_go kube-apiserver 'NewAPIServerCommand()'
main_go kube-controller-manager 'NewControllerManagerCommand()'
main_go kube-scheduler 'NewSchedulerCommand()'
main_go kubelet 'NewKubeletCommand()'
(
  cd "$work/kube"
  go mod init executor-k8s-build >/dev/null 2>&1
  go mod edit -require="k8s.io/kubernetes@$kubernetes_version"
  go mod download -json "k8s.io/kubernetes@$kubernetes_version" >"$work/kube-download.json"
  gomod=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["GoMod"])' "$work/kube-download.json")
  for m in $(grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}'); do
    go mod edit -replace="$m=$m@$staging_version"
  done
  go mod tidy >"$work/tidy.log" 2>&1 || { tail -n 30 "$work/tidy.log" >&2; exit 1; }
  CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin/" ./cmd/...
) || { log "building kubernetes $kubernetes_version failed"; exit 1; }

mkdir -p "$work/etcd"
cat >"$work/etcd/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
(
  cd "$work/etcd"
  go mod init executor-etcd-build >/dev/null 2>&1
  go mod edit -require="go.etcd.io/etcd/server/v3@$etcd_version"
  go mod tidy >"$work/etcd-tidy.log" 2>&1 || { tail -n 30 "$work/etcd-tidy.log" >&2; exit 1; }
  CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin/etcd" .
) || { log "building etcd $etcd_version failed"; exit 1; }
log "built ${binaries[*]} etcd in $(( $(date +%s) - started )) s into $bin"
echo "$bin"
