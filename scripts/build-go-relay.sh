#!/usr/bin/env bash
# Build bench/go_relay (the bench's Go stand-in for an executor) into .cache/bin, once per
# version of its sources; print its path. Used by bench/throughput.py --go-relay.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[build-go-relay] $*" >&2; }

src=bench/go_relay
hash=$( (cd "$src" && cat go.mod go.sum ./*.go) | sha256sum | cut -c1-16)
target="$PWD/.cache/bin/go-relay-$hash"
if [ ! -x "$target" ]; then
  command -v go >/dev/null 2>&1 || { log "Go is needed to build the Go relay"; exit 1; }
  log "building $src (grpc-go and gnark-crypto from the Go module proxy)"
  mkdir -p .cache/bin
  rm -f .cache/bin/go-relay-*
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -o "$target.tmp" .)
  mv -f "$target.tmp" "$target"
fi
echo "$target"
