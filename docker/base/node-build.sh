#!/usr/bin/env bash
# local/node-build:22-bookworm: the runtime base plus the toolchain aws-lambda-ric's native addon
# needs (cmake, g++, make, python3, xz) and Node's headers, so node-gyp never downloads them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
TAG=${NODE_BUILD_IMAGE_TAG:-local/node-build:22-bookworm}
BASE=${NODE_RUNTIME_IMAGE_TAG:-local/node:22-bookworm-slim}
image_exists "$TAG" && { log "$TAG exists, skipping"; exit 0; }
"$here/node-runtime.sh"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
npm_unpack "node-linux-$(node_npm_arch)@22" "$work/node"
mv "$work/node/include" "$work/include"
rm -rf "$work/node"
cat > "$work/Dockerfile" <<DOCKERFILE
FROM $BASE
RUN apt-get update \\
 && apt-get install -y --no-install-recommends cmake g++ make python3 xz-utils git \\
 && rm -rf /var/lib/apt/lists/*
COPY include /usr/local/include
ENV npm_config_nodedir=/usr/local
DOCKERFILE
log "building $TAG"
DOCKER_BUILDKIT=0 docker build --network host -q -t "$TAG" "$work" >/dev/null
log "built $TAG ($(docker image inspect -f '{{.Size}}' "$TAG" | awk '{printf "%.0f MB", $1/1e6}'))"
