#!/usr/bin/env bash
# local/node:22-bookworm-slim: the offline equivalent of node:22-bookworm-slim.
# Debian bookworm minbase + Node 22 (npm package node-linux-<arch>@22) + npm 10 + the machine's CA certs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
TAG=${NODE_RUNTIME_IMAGE_TAG:-local/node:22-bookworm-slim}
image_exists "$TAG" && { log "$TAG exists, skipping"; exit 0; }

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
debian_rootfs bookworm "$root"
log "adding Node 22 and npm 10"
npm_unpack "node-linux-$(node_npm_arch)@22" "$work/node"
install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
npm_unpack npm@10 "$root/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# The same unprivileged user as the official image.
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
"$root/usr/local/bin/node" --version >/dev/null
import_rootfs "$root" "$TAG" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]'
