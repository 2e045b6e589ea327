#!/usr/bin/env bash
# Build the native BN254 library (native/bn254: Go over gnark-crypto) into the signing package,
# once per version of its sources. Without the Go that native/bn254/go.mod asks for, it says so
# and stops without failing: the executor then signs and verifies in pure Python (slower).
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[build-native] $*" >&2; }

src=native/bn254
out=src/executor_adapters/signing/bn254/libexecutor_bn254.so
hash=$( (cd "$src" && cat go.mod go.sum ./*.go) | sha256sum | cut -c1-16)
stamp=".cache/native/bn254-$hash"
if [ -f "$out" ] && [ -f "$stamp" ]; then
  exit 0
fi
needed=$(awk '$1 == "go" { print $2 }' "$src/go.mod")
have=$(command -v go >/dev/null 2>&1 && go env GOVERSION | sed 's/^go//' || echo 0)
if [ "$(printf '%s\n%s\n' "$needed" "$have" | sort -V | head -n 1)" != "$needed" ]; then
  log "Go $needed or newer not found (have: $have): BN254 runs on the pure-Python backend"
  exit 0
fi
log "building $out (gnark-crypto, about half a minute the first time)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$src" && CGO_ENABLED=1 go build -buildmode=c-shared -trimpath -ldflags=-s \
  -o "$work/libexecutor_bn254.so" .)
mv -f "$work/libexecutor_bn254.so" "$out"
mkdir -p .cache/native
rm -f .cache/native/bn254-*
touch "$stamp"
