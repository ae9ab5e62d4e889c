#!/usr/bin/env bash
# Shared steps of the offline image kit: no container registry is reachable, so every base image
# is made from a debootstrap rootfs (Debian mirror) plus packages from the npm registry and PyPI.
set -euo pipefail

log() { printf '[images] %s\n' "$*" >&2; }

# True when the image exists: each script skips its work then, so a second CI run is fast.
image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The machine's Debian mirror, read from its apt sources (never hard-coded).
debian_mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  elif [ -f /etc/apt/sources.list ]; then
    m=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$m" ] || { log "cannot find a Debian mirror in the apt sources"; return 1; }
  echo "$m"
}

# debian_rootfs SUITE DIR [PACKAGE,...]: a minbase rootfs carrying the machine's CA certificates,
# so that npm and pip inside images built from it trust the same HTTPS proxy as the host.
debian_rootfs() {
  local suite=$1 dir=$2 include=${3:-}
  local mirror; mirror=$(debian_mirror)
  log "debootstrap $suite (minbase${include:+ + $include})"
  debootstrap --variant=minbase --include="ca-certificates${include:+,$include}" "$suite" "$dir" "$mirror" >"$dir.debootstrap.log" 2>&1 \
    || { tail -n 30 "$dir.debootstrap.log" >&2; return 1; }
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
  fi
  chroot "$dir" update-ca-certificates >/dev/null 2>&1
  # Keep images small: no apt lists, caches or docs (apt-get update restores the lists when needed).
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
    "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/*
}

# import_rootfs DIR TAG [--change ...]: the rootfs as an image.
import_rootfs() {
  local dir=$1 tag=$2; shift 2
  tar -C "$dir" -c . | docker import "$@" - "$tag" >/dev/null
  log "imported $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# npm_unpack PACKAGE@VERSION DIR: the registry tarball's `package/` unpacked into DIR.
npm_unpack() {
  local spec=$1 dir=$2 tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$dir" && cp -a "$tmp/package/." "$dir/" && rm -rf "$tmp"
}

node_npm_arch() {
  case "$(uname -m)" in x86_64) echo x64 ;; aarch64|arm64) echo arm64 ;; *) log "unsupported arch $(uname -m)"; return 1 ;; esac
}
