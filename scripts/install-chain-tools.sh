#!/usr/bin/env bash
# Install the Ethereum dev node (anvil, Foundry's npm binary package) and the Solidity compiler
# (solcjs, with its bundled soljson) into .cache/chain-tools for the tests marked `chain`.
# Quiet on success; once per pinned pair of versions (a stamp records them). Needs npm: on
# Debian as root it installs nodejs and npm when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
log() { echo "[install-chain-tools] $*" >&2; }

anvil_version=1.7.1
solc_version=0.8.28
prefix=.cache/chain-tools
stamp="$prefix/.installed-anvil-$anvil_version-solc-$solc_version"
anvil="$prefix/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"

if [ -f "$stamp" ] && [ -x "$anvil" ]; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt_log=$(mktemp /tmp/executor-apt.XXXXXX.log)
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -q \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm; } \
      >"$apt_log" 2>&1; then
      log "apt-get install nodejs npm failed; last lines of its output:"
      tail -n 20 "$apt_log" >&2
      exit 1
    fi
    rm -f "$apt_log"
  else
    log "npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)"
    exit 1
  fi
fi
mkdir -p "$prefix"
npm_log=$(mktemp /tmp/executor-npm.XXXXXX.log)
if ! npm install --prefix "$prefix" --no-audit --no-fund --no-save --loglevel=error \
  "@foundry-rs/anvil-linux-amd64@$anvil_version" "solc@$solc_version" >"$npm_log" 2>&1; then
  log "npm install failed; last lines of its output:"
  tail -n 20 "$npm_log" >&2
  rm -f "$npm_log"
  exit 1
fi
rm -f "$npm_log"
if [ ! -f "$anvil" ]; then
  log "npm installed no anvil binary at $anvil"
  exit 1
fi
chmod +x "$anvil"
if ! "$anvil" --version >/dev/null 2>&1; then
  log "$anvil does not run on this machine: $("$anvil" --version 2>&1 | tail -n 3)"
  exit 1
fi
rm -f "$prefix"/.installed-*
touch "$stamp"
