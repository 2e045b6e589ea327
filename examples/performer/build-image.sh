#!/usr/bin/env bash
# Build hourglass-example-performer:latest, skipping the build when its inputs have not changed.
# Inputs: this script, Dockerfile, app.py, requirements.txt, src/hourglass_proto,
# src/hourglass_performer and the base image. Wheels go in with pip --target (no pip in the image).
# Usage: examples/performer/build-image.sh [--force]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
image="hourglass-example-performer:latest"
base="hourglass-python-base:bookworm"
label="org.hourglass.executor.inputs-hash"
cache="$repo/.cache/example-performer"
python="${PYTHON:-python3}"
force=0
[ "${1:-}" = "--force" ] && force=1

log() { echo "[example-performer] $*" >&2; }
die() { log "$*"; exit 1; }

command -v docker >/dev/null 2>&1 || die "docker CLI not found: run scripts/setup-env.sh"
docker info >/dev/null 2>&1 || die "Docker engine does not answer: run scripts/setup-env.sh"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  log "$base is missing; building it"
  bash "$repo/scripts/build-base-image.sh" "$base"
fi

inputs_hash() {
  {
    (cd "$repo" && find \
      examples/performer/build-image.sh examples/performer/Dockerfile \
      examples/performer/app.py examples/performer/requirements.txt \
      src/hourglass_proto src/hourglass_performer \
      -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum)
    echo "base $(docker image inspect -f '{{.Id}}' "$base")"
  } | sha256sum | cut -c1-64
}

hash=$(inputs_hash)
current=$(docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$image" 2>/dev/null || true)
if [ "$force" -eq 0 ] && [ "$current" = "$hash" ]; then
  log "$image is up to date (${hash:0:12})"
  exit 0
fi

# Wheels for the image's CPython 3.11 on glibc 2.36 (bookworm), whatever the host Python is.
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) die "unsupported machine $(uname -m)" ;;
esac
# pip only takes the tags it is given, so list every glibc from manylinux2014 (2.17) to 2.36.
platforms=(--platform "manylinux2014_$arch")
for minor in $(seq 17 36); do platforms+=(--platform "manylinux_2_${minor}_$arch"); done
req_hash=$(cat "$here/requirements.txt" <(echo "$arch") | sha256sum | cut -c1-16)
site="$cache/site-packages-$req_hash"
mkdir -p "$cache"
# Temporary dirs are per run, so that two builds at once do not trip over each other.
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ ! -d "$site" ]; then
  # pip checks what it installs against the environment it runs in; an environment of its own,
  # holding nothing but pip, lets the pins resolve by themselves.
  pip_env="$cache/pip-env"
  if [ ! -x "$pip_env/bin/python" ]; then
    "$python" -m venv "$work/pip-env"
    mv -T "$work/pip-env" "$pip_env" 2>/dev/null || true  # another build may have won
  fi
  log "installing requirements.txt into $site"
  "$pip_env/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --root-user-action=ignore \
    --target "$work/site-packages" --only-binary=:all: \
    --implementation cp --python-version 3.11 "${platforms[@]}" \
    -r "$here/requirements.txt"
  rm -rf "$work/site-packages/bin"
  mv -T "$work/site-packages" "$site" 2>/dev/null || true  # another build may have won
fi

# A context of exactly what the Dockerfile copies, so that nothing else is sent to the engine.
context="$work/context"
mkdir -p "$context"
cp -al "$site" "$context/site-packages" 2>/dev/null || cp -a "$site" "$context/site-packages"
tar -C "$repo/src" -c --exclude=__pycache__ hourglass_proto hourglass_performer | tar -C "$context" -x
cp "$here/Dockerfile" "$here/app.py" "$context/"

log "building $image (${hash:0:12})"
previous=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
start=$(date +%s)
# The legacy builder warns about itself on every build; show its output only when it fails.
if ! output=$(docker build --quiet --label "$label=$hash" --tag "$image" "$context" 2>&1); then
  echo "$output" >&2
  die "docker build failed"
fi
log "built $image in $(($(date +%s) - start)) s"
# The image this build replaced is now untagged; remove it unless a container still uses it.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect -f '{{.Id}}' "$image")" ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true
fi
