#!/usr/bin/env bash
# Create .venv (Python >= 3.11) with the project and its dev tools; reinstall only when
# pyproject.toml changed. Debian's own python3 refuses system-wide pip installs, hence the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv
log() { echo "[setup-python] $*" >&2; }

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  log "need Python 3.11 or newer as '$python' (Debian 12: apt-get install python3)"
  exit 1
fi
if [ ! -x "$venv/bin/python" ]; then
  if ! "$python" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      log "installing python3-venv"
      apt_log=$(mktemp /tmp/executor-apt.XXXXXX.log)
      if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
        && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; } >"$apt_log" 2>&1; then
        log "apt-get failed; last lines of its output:"
        tail -n 20 "$apt_log" >&2
        exit 1
      fi
      rm -f "$apt_log"
    fi
    "$python" -m venv "$venv"
  fi
fi
stamp="$venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "installing the project and its dev tools into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
