#!/usr/bin/env bash
# Makes sure the three base images exist and prints which ones to use, as shell assignments:
#   images=$(scripts/base-images.sh) && eval "$images"   # sets NODE_BUILD_IMAGE, NODE_RUNTIME_IMAGE, LOCALSTACK_IMAGE
# For each: an image you named (NODE_BUILD_IMAGE=...) is used, pulled if missing; otherwise the
# public image when present or pullable; otherwise the one the offline kit (docker/base/) built on
# this machine before; otherwise the kit builds it now, from Debian and npm/PyPI/Maven packages,
# once per machine. Progress goes to stderr; the assignments to stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '%s\n' "$*" >&2; }
exists() { docker image inspect "$1" >/dev/null 2>&1; }

# Pulls with a deadline; quiet unless it works. A registry that cannot be reached fails in seconds.
try_pull() {
  local image=$1 log
  log=$(mktemp)
  say "==> docker pull $image"
  if timeout 300 docker pull "$image" >"$log" 2>&1; then rm -f "$log"; return 0; fi
  say "    not pullable here: $(grep -iE 'error|denied|no such host|timeout' "$log" | tail -n1 | cut -c1-160)"
  rm -f "$log"
  return 1
}

# Runs a kit script with a heartbeat, so a long build never looks stuck.
build_with_kit() {
  local script=$1 image=$2 minutes=$3 started=$SECONDS pid
  say "==> building $image with the offline kit (docker/base/$script): once per machine, about $minutes min"
  # The kit's output is progress: stderr, never the assignments on stdout that callers eval.
  bash "docker/base/$script" >&2 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 15
    kill -0 "$pid" 2>/dev/null && say "    ... $image: $((SECONDS - started)) s"
  done
  wait "$pid" || { say "base-images: building $image failed (see the lines above)"; exit 1; }
  say "    $image ready in $((SECONDS - started)) s"
}

# resolve VARIABLE PUBLIC KIT_IMAGE KIT_SCRIPT MINUTES: prints VARIABLE=<image to use>.
resolve() {
  local variable=$1 public=$2 kit=$3 script=$4 minutes=$5 chosen=${!1:-}
  if [ -n "$chosen" ] && [ "$chosen" != "$public" ]; then
    # Named by the user (or by a previous resolution): it must exist or be pullable.
    if ! exists "$chosen" && ! try_pull "$chosen"; then
      say "base-images: $variable=$chosen is neither on this machine nor pullable: build it, or unset $variable to let make build one"
      exit 1
    fi
  elif exists "$public"; then chosen=$public
  elif exists "$kit"; then chosen=$kit
  elif try_pull "$public"; then chosen=$public
  else
    command -v debootstrap >/dev/null 2>&1 || { say "base-images: $public cannot be pulled here and the offline kit needs debootstrap: install it (sudo apt-get install -y debootstrap), then run the command again"; exit 1; }
    build_with_kit "$script" "$kit" "$minutes"
    chosen=$kit
  fi
  printf '%s=%q\n' "$variable" "$chosen"
}

scripts/preflight.sh engine
resolve NODE_RUNTIME_IMAGE node:22-bookworm-slim local/node:22-bookworm-slim node-runtime.sh 2
resolve NODE_BUILD_IMAGE node:22-bookworm local/node-build:22-bookworm node-build.sh 3
resolve LOCALSTACK_IMAGE localstack/localstack:4.14.0 local/localstack:4.14.0 localstack.sh 4
