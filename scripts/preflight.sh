#!/usr/bin/env bash
# Checks that `make up` can work, each failure as one sentence saying what to do (exit 1).
#   scripts/preflight.sh engine   # a Docker engine answers
#   scripts/preflight.sh ports    # 4566, 4567 (the checking endpoint), 9001 (Lambda API), 9010 (Function URL) and 9080 (dashboard) are free, or already held by this stack
#   scripts/preflight.sh bench-tools  # vipsthumbnail and ImageMagick for make bench
set -euo pipefail

fail() { echo "make up: $*" >&2; exit 1; }

# How to get a Docker engine on this machine, in one sentence.
install_hint() {
  local id=''
  [ -r /etc/os-release ] && id=$(. /etc/os-release && echo "${ID:-} ${ID_LIKE:-}")
  case "$(uname -s) $id" in
    Darwin*) echo "install Docker Desktop (https://docs.docker.com/desktop/) and start it" ;;
    *debian*|*ubuntu*) echo "install and start one: sudo apt-get install -y docker.io && sudo systemctl start docker (without systemd: sudo dockerd > /var/log/dockerd.log 2>&1 &)" ;;
    *fedora*|*rhel*|*centos*) echo "install and start one: sudo dnf install -y moby-engine && sudo systemctl start docker" ;;
    *arch*) echo "install and start one: sudo pacman -S docker && sudo systemctl start docker" ;;
    *) echo "install Docker Engine (https://docs.docker.com/engine/install/) and start it" ;;
  esac
}

check_engine() {
  command -v docker >/dev/null 2>&1 || fail "the docker command is not installed: $(install_hint), then run make up again."
  if ! docker info >/dev/null 2>&1; then
    if command -v dockerd >/dev/null 2>&1; then
      fail "no Docker engine answers: start it (sudo systemctl start docker, or without systemd: sudo dockerd > /var/log/dockerd.log 2>&1 &), then run make up again."
    fi
    fail "no Docker engine answers and none is installed (only the docker client is): $(install_hint), then run make up again."
  fi
}

# A port is fine when free, or when a container of this compose project publishes it (make up twice).
check_port() {
  local port=$1 owner
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
  owner=$(docker ps --filter "publish=$port" --format '{{.Label "com.docker.compose.project"}}' 2>/dev/null | head -n1)
  [ "$owner" = "${COMPOSE_PROJECT_NAME:?set by the Makefile}" ] && return 0
  fail "port $port on 127.0.0.1 is already taken${owner:+ by compose project '$owner'}: stop what uses it (make down, or docker ps), then run make up again."
}

# make bench runs the peers beside our code: libvips' CLI and ImageMagick.
check_bench_tools() {
  command -v vipsthumbnail >/dev/null 2>&1 || { echo "make bench: vipsthumbnail is missing: install libvips-tools (apt-get install libvips-tools), then run make bench again." >&2; exit 1; }
  convert -version 2>/dev/null | grep -q ImageMagick || { echo "make bench: ImageMagick's convert is missing: install imagemagick (apt-get install imagemagick), then run make bench again." >&2; exit 1; }
}

case "${1:-}" in
  engine) check_engine ;;
  ports) for port in 4566 4567 9001 9010 9080; do check_port "$port"; done ;;
  bench-tools) check_bench_tools ;;
  *) echo "usage: $0 engine|ports|bench-tools" >&2; exit 2 ;;
esac
