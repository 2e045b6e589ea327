#!/usr/bin/env bash
# Build a minimal Debian image with python3 (no image can be pulled here), once.
# Usage: scripts/build-base-image.sh [IMAGE]   (default hourglass-python-base:bookworm)
set -euo pipefail

image="${1:-hourglass-python-base:bookworm}"
log() { echo "[base-image] $*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image already present"
  exit 0
fi
command -v debootstrap >/dev/null 2>&1 || { log "debootstrap is missing: run scripts/setup-env.sh first"; exit 1; }

# The mirror apt already uses is the only one reachable here.
mirror=$(grep -hoE '^URIs: *http[^ ]*debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1 | sed 's/^URIs: *//')
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '^deb +http[^ ]*debian/? ' /etc/apt/sources.list 2>/dev/null | head -n 1 | awk '{print $2}')
fi
mirror="${mirror:-http://deb.debian.org/debian}"
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")

root=$(mktemp -d /tmp/executor-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
log "debootstrap $suite from $mirror (about a minute)"
if ! debootstrap --variant=minbase --include=python3 "$suite" "$root" "$mirror" >"$root.log" 2>&1; then
  log "debootstrap failed; last lines of its log:"
  tail -n 20 "$root.log" >&2
  exit 1
fi
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  - "$image" >/dev/null
log "built $image"
