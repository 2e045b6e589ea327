#!/usr/bin/env bash
# Make this Debian machine able to run performers: Docker engine, debootstrap, a local registry,
# and Prometheus for the metrics test.
# Idempotent: where everything is present and dockerd answers, it changes nothing.
set -euo pipefail

log() { echo "[setup-env] $*" >&2; }

need_root() {
  if [ "$(id -u)" -ne 0 ]; then
    log "must run as root to install packages or start dockerd (try: sudo $0)"
    exit 1
  fi
}

docker_answers() { docker info >/dev/null 2>&1; }

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)  # the metrics test scrapes with it
if [ "${#missing[@]}" -gt 0 ]; then
  need_root
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found: this script supports Debian; install ${missing[*]} by hand"
    exit 1
  fi
  log "installing ${missing[*]}"
  # apt and debconf talk on stderr even when all is well; show what they said only on failure.
  apt_log=$(mktemp /tmp/executor-apt.XXXXXX.log)
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
    >"$apt_log" 2>&1; then
    log "apt-get failed; last lines of its output:"
    tail -n 20 "$apt_log" >&2
    exit 1
  fi
  rm -f "$apt_log"
fi

if docker_answers; then
  log "Docker engine answers"
  exit 0
fi

need_root
log "starting dockerd"
mkdir -p /var/log
nohup dockerd >/var/log/executor-dockerd.log 2>&1 &
# The pid says this dockerd is ours: the engine-outage test stops and restarts only this one.
echo $! >/run/executor-dockerd.pid
for _ in $(seq 1 60); do
  if docker_answers; then
    log "Docker engine answers"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; see /var/log/executor-dockerd.log"
tail -n 20 /var/log/executor-dockerd.log >&2 || true
exit 1
