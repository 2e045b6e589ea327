#!/usr/bin/env bash
# Install ghz (a gRPC load generator written in Go), pinned, from the Go module proxy into
# .cache/bin; print its path. Used by bench/throughput.py. About a minute the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
version=v0.120.0
bin="$PWD/.cache/bin"
target="$bin/ghz-$version"
log() { echo "[install-ghz] $*" >&2; }

if [ ! -x "$target" ]; then
  command -v go >/dev/null 2>&1 || { log "Go is needed to build ghz"; exit 1; }
  log "building ghz $version from the Go module proxy"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  GOBIN="$work" go install "github.com/bojand/ghz/cmd/ghz@$version"
  mkdir -p "$bin"
  mv -f "$work/ghz" "$target"
fi
echo "$target"
